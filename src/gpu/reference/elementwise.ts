// Float64 references for the elementwise kernels (src/gpu/kernels/elementwise.ts).

const GELU_K = Math.sqrt(2 / Math.PI);
const GELU_C = 0.044715;

export function add(a: ArrayLike<number>, b: ArrayLike<number>, scale = 1): Float64Array {
  return Float64Array.from(a, (v, i) => scale * (v + b[i]));
}

export function scale(x: ArrayLike<number>, s: number): Float64Array {
  return Float64Array.from(x, (v) => s * v);
}

export function axpy(alpha: number, x: ArrayLike<number>, y: ArrayLike<number>): Float64Array {
  return Float64Array.from(y, (v, i) => v + alpha * x[i]);
}

/** Tanh-form GELU as written: 0.5·x·(1 + tanh(u)), u = √(2/π)·(x + 0.044715·x³). Cancels for x << 0. */
export function geluLiteral(x: number): number {
  return 0.5 * x * (1 + Math.tanh(GELU_K * (x + GELU_C * x ** 3)));
}

// 1 + tanh(u) = 2·sigmoid(2u) exactly; the sigmoid form keeps full relative accuracy in the
// negative tail, where the literal form loses every digit to cancellation.
function sigmoid(z: number): number {
  return z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z));
}

/** Tanh-form GELU: x·sigmoid(2u). */
export function gelu(x: number): number {
  return x * sigmoid(2 * GELU_K * (x + GELU_C * x ** 3));
}

/** d gelu / dx = sigmoid(2u) + 2x·u'·sigmoid(2u)·sigmoid(-2u). */
export function geluGrad(x: number): number {
  const u = GELU_K * (x + GELU_C * x ** 3);
  const du = GELU_K * (1 + 3 * GELU_C * x * x);
  const tail = sigmoid(2 * u) * sigmoid(-2 * u);
  return sigmoid(2 * u) + (tail === 0 ? 0 : 2 * x * du * tail);
}

/**
 * d² gelu / dx² = T·(4u' + 2x·u'' + 4x·u'²·(1 - 2S)), S = sigmoid(2u), T = S·(1 - S)
 * (the derivative of geluGrad: S' = 2u'·T and T' = 2u'·T·(1 - 2S)).
 */
export function geluGrad2(x: number): number {
  const u = GELU_K * (x + GELU_C * x ** 3);
  const du = GELU_K * (1 + 3 * GELU_C * x * x);
  const ddu = 6 * GELU_K * GELU_C * x;
  const tail = sigmoid(2 * u) * sigmoid(-2 * u);
  return tail === 0 ? 0 : tail * (4 * du + 2 * x * ddu - 4 * x * du * du * Math.tanh(u));
}

export function geluArray(x: ArrayLike<number>): Float64Array {
  return Float64Array.from(x, gelu);
}

export function geluBackward(x: ArrayLike<number>, dy: ArrayLike<number>): Float64Array {
  return Float64Array.from(x, (v, i) => dy[i] * geluGrad(v));
}

/** The tangent of geluBackward along ẋ and ḋy: gelu''(x)·ẋ·dy + gelu'(x)·ḋy. */
export function geluBackwardTangent(
  x: ArrayLike<number>,
  xDot: ArrayLike<number>,
  dy: ArrayLike<number>,
  dyDot: ArrayLike<number>,
): Float64Array {
  return Float64Array.from(x, (v, i) => geluGrad2(v) * xDot[i] * dy[i] + geluGrad(v) * dyDot[i]);
}

/**
 * Error scales for comparing an f32 GELU with these references: f32 rounding of u is amplified
 * by exp(-2|u|) in proportion to 1 + |2u|, and gelu' is a difference of two terms that cancel
 * near its root, so its error scales with the terms' magnitude, not with gelu' itself.
 */
export function geluErrorScale(x: number): number {
  return Math.abs(gelu(x)) * (1 + Math.abs(2 * GELU_K * (x + GELU_C * x ** 3)));
}

export function geluGradErrorScale(x: number): number {
  const u = GELU_K * (x + GELU_C * x ** 3);
  const du = GELU_K * (1 + 3 * GELU_C * x * x);
  const terms = sigmoid(2 * u) + Math.abs(2 * x * du) * sigmoid(2 * u) * sigmoid(-2 * u);
  return terms * (1 + Math.abs(2 * u));
}

/** The same for gelu'': the magnitude of its terms, amplified like gelu's by 1 + |2u|. */
export function geluGrad2ErrorScale(x: number): number {
  const u = GELU_K * (x + GELU_C * x ** 3);
  const du = GELU_K * (1 + 3 * GELU_C * x * x);
  const ddu = 6 * GELU_K * GELU_C * x;
  const tail = sigmoid(2 * u) * sigmoid(-2 * u);
  const terms = tail * (4 * du + Math.abs(2 * x * ddu) + Math.abs(4 * x * du * du));
  return terms * (1 + Math.abs(2 * u));
}
