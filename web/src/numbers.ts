// Numbers as the page prints them; no DOM here, so tests/web/numbers.test.ts runs it under Deno.
const SUPERSCRIPT: Record<string, string> = {
  "-": "⁻",
  "0": "⁰",
  "1": "¹",
  "2": "²",
  "3": "³",
  "4": "⁴",
  "5": "⁵",
  "6": "⁶",
  "7": "⁷",
  "8": "⁸",
  "9": "⁹",
};

/**
 * A value people read at a glance: fixed notation with 3 significant digits from 0.01 to 9999
 * (`73.4`, `-0.512`), else engineering notation, the exponent a multiple of 3 (`12.3×10⁻⁶`),
 * never `7.34e+1`.
 */
export function engineering(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return "–";
  if (value === 0) return "0";
  const abs = Math.abs(value);
  if (abs >= 0.01 && abs < 1e4) {
    const decimals = Math.max(0, 2 - Math.floor(Math.log10(abs)));
    return value.toFixed(decimals);
  }
  // toExponential rounds to 3 significant digits first (9.9996e-4 → "1.00e-3"), then the exponent
  // moves down to a multiple of 3 and the mantissa up to match.
  const [m, e] = value.toExponential(2).split("e");
  const shift = ((Number(e) % 3) + 3) % 3;
  const exponent = Number(e) - shift;
  const mantissa = Number(m) * 10 ** shift;
  const digits = Math.abs(mantissa) >= 100 ? 0 : Math.abs(mantissa) >= 10 ? 1 : 2;
  const power = [...String(exponent)].map((c) => SUPERSCRIPT[c]).join("");
  return `${mantissa.toFixed(digits)}×10${power}`;
}
