// The tanh-form GELU and its derivative as the elementwise shaders write them (WGSL has no
// includes, so elementwise_unary/in_place/binary/update.wgsl each carry a copy), evaluated in
// float64: x·sigmoid(2u) with u = K(x + C x³) and t = exp(-2|u|) <= 1, overflow-free.

const GELU_K = 0.7978845608028654; // sqrt(2 / pi)
const GELU_C = 0.044715;

export function gelu(x: number): number {
  const u = GELU_K * (x + GELU_C * x * x * x);
  const t = Math.exp(-2 * Math.abs(u));
  return x * ((u >= 0 ? 1 : t) / (1 + t));
}

/** gelu'(x); the second term is dropped once t underflows, as in the WGSL. */
export function geluGrad(x: number): number {
  const u = GELU_K * (x + GELU_C * x * x * x);
  const t = Math.exp(-2 * Math.abs(u));
  const inv = 1 / (1 + t);
  const sigmoid2u = (u >= 0 ? 1 : t) * inv;
  if (t === 0) return sigmoid2u;
  const du = GELU_K * (1 + 3 * GELU_C * x * x);
  return sigmoid2u + 2 * x * du * t * inv * inv;
}
