// Tile configurations of the matmul kernel family, and the candidate set the autotuner measures.
//
// - "vec4": register-blocked, vec4 loads, no workgroup memory (shaders/matmul_vec4.wgsl). Needs
//   4-aligned layouts; wins on CPU adapters (llvmpipe) where barriers are very expensive.
// - "tiled": workgroup-memory tiles with register blocking (shaders/matmul_tiled.wgsl). Any
//   layout; what suits real GPUs.
// - "strided": register-blocked scalar loads for any strides (shaders/matmul_strided.wgsl).

export interface Vec4Config {
  kernel: "vec4";
  /** Rows per invocation / 4 (1..8). */
  rm: number;
  /** Columns per invocation / 4 (1..8). */
  rn: number;
  wgx: number;
  wgy: number;
}

export interface TiledConfig {
  kernel: "tiled";
  bm: number;
  bn: number;
  bk: number;
  tm: number;
  tn: number;
}

export interface StridedConfig {
  kernel: "strided";
  /** Rows per invocation (1..8); each invocation covers 4 columns. */
  tm: number;
  wgx: number;
  wgy: number;
}

export type MatmulConfig = Vec4Config | TiledConfig | StridedConfig;

/** Kernels that accept any layout. */
export type GeneralConfig = TiledConfig | StridedConfig;

/** The choice in use on one runtime: `fast` for 4-aligned layouts, `general` for the rest. */
export interface MatmulChoice {
  fast: MatmulConfig;
  general: GeneralConfig;
  /** How the choice was made: "default", "tuned" or "cache". */
  source: string;
}

/** Bump when kernels or candidates change, so that cached tuning results are re-measured. */
export const MATMUL_TUNE_VERSION = 1;

export const VEC4_CANDIDATES: readonly Vec4Config[] = [
  { kernel: "vec4", rm: 2, rn: 2, wgx: 8, wgy: 8 },
  { kernel: "vec4", rm: 4, rn: 4, wgx: 8, wgy: 1 },
  { kernel: "vec4", rm: 4, rn: 8, wgx: 8, wgy: 1 },
];

export const TILED_CANDIDATES: readonly TiledConfig[] = [
  { kernel: "tiled", bm: 64, bn: 64, bk: 16, tm: 4, tn: 4 },
  { kernel: "tiled", bm: 128, bn: 128, bk: 8, tm: 8, tn: 8 },
];

export const STRIDED_CANDIDATES: readonly StridedConfig[] = [
  { kernel: "strided", tm: 4, wgx: 8, wgy: 8 },
  { kernel: "strided", tm: 8, wgx: 8, wgy: 4 },
];

export const ALL_CANDIDATES: readonly MatmulConfig[] = [
  ...VEC4_CANDIDATES,
  ...TILED_CANDIDATES,
  ...STRIDED_CANDIDATES,
];

/**
 * What the tuner measures on an adapter. CPU adapters skip the tiled kernels: their barriers are
 * ~30x slower there (see ENGINEERING.md) and llvmpipe needs about a minute to compile each.
 * Blocks beyond 16x32 are left out everywhere: llvmpipe's compile time grows steeply with the
 * block (32x32 took over a minute per layout on a busy 2-core machine).
 */
export function candidatesFor(isFallbackAdapter: boolean): readonly MatmulConfig[] {
  return isFallbackAdapter ? [...VEC4_CANDIDATES, ...STRIDED_CANDIDATES] : ALL_CANDIDATES;
}

/** Untuned defaults: CPU adapters get the barrier-free kernels, GPUs the tiled one. */
export function defaultChoice(isFallbackAdapter: boolean): MatmulChoice {
  return isFallbackAdapter
    ? { fast: VEC4_CANDIDATES[1], general: STRIDED_CANDIDATES[0], source: "default" }
    : { fast: TILED_CANDIDATES[0], general: TILED_CANDIDATES[0], source: "default" };
}

export function configName(c: MatmulConfig): string {
  switch (c.kernel) {
    case "vec4":
      return `vec4 ${4 * c.rm}x${4 * c.rn} wg${c.wgx}x${c.wgy}`;
    case "tiled":
      return `tiled ${c.bm}x${c.bn}x${c.bk} ${c.tm}x${c.tn}`;
    case "strided":
      return `strided ${c.tm}x4 wg${c.wgx}x${c.wgy}`;
  }
}

/** Workgroup memory a configuration needs, in bytes (0 for the barrier-free kernels). */
export function workgroupBytes(c: MatmulConfig): number {
  return c.kernel === "tiled" ? 4 * c.bk * (c.bm + c.bn) : 0;
}

export function invocationsPerWorkgroup(c: MatmulConfig): number {
  return c.kernel === "tiled" ? (c.bm / c.tm) * (c.bn / c.tn) : c.wgx * c.wgy;
}

/** Checks a configuration read from a cache file; returns null when it is not one we know. */
export function parseConfig(value: unknown): MatmulConfig | null {
  if (typeof value !== "object" || value === null) return null;
  const known = ALL_CANDIDATES.find((c) =>
    Object.entries(c).every(([k, v]) => (value as Record<string, unknown>)[k] === v)
  );
  return known ?? null;
}
