// Losses are stored and computed as float32. A float32 read back as a JavaScript number shows the
// float64 expansion of the stored value (1.9 comes back as 1.899999976158142); what leaves the
// service is instead the shortest decimal that rounds to the same float32 (1.9), which a client
// storing float32 recovers exactly.

/** The shortest decimal (as a number) whose float32 rounding is `x`'s. */
export function float32Decimal(x: number): number {
  if (!Number.isFinite(x) || x === 0) return Math.fround(x);
  const f = Math.fround(x);
  const fits = (digits: number) => Math.fround(Number(f.toPrecision(digits))) === f;
  // Values from arithmetic need 7 to 9 digits, user data often fewer: start in the middle.
  let digits = fits(6) ? 1 : 7;
  while (digits < 9 && !fits(digits)) digits++;
  return Number(f.toPrecision(digits));
}

/** `float32Decimal` of each value. */
export function float32Decimals(values: ArrayLike<number>): number[] {
  return Array.from(values, float32Decimal);
}
