// Tile configurations of the matmul kernel family, and the candidate set the autotuner measures.
//
// - "vec4": register-blocked, vec4 loads, no workgroup memory (shaders/matmul_vec4.wgsl). Needs
//   4-aligned layouts; for CPU adapters (llvmpipe) where barriers are very expensive.
// - "panel": row panels whose a tile is staged in workgroup memory and broadcast to invocations
//   that each stream their own columns of b (shaders/matmul_panel.wgsl). Needs 4-aligned layouts;
//   fewest loads per FMA, which is what llvmpipe's per-lane buffer loads reward.
// - "tiled": workgroup-memory tiles with register blocking (shaders/matmul_tiled.wgsl). Any
//   layout; what suits real GPUs.
// - "strided": register-blocked scalar loads for any strides (shaders/matmul_strided.wgsl).
// - "texture": both operands first packed into rgba32float textures (shaders/matmul_pack.wgsl,
//   any layout), then register-blocked texel fetches (shaders/matmul_texture.wgsl). For llvmpipe,
//   whose texel fetches are vectorised gathers while its buffer loads are per-lane loops; limited
//   by the texture size (maxTextureDimension2D).

export interface Vec4Config {
  kernel: "vec4";
  /** Rows per invocation / 4 (1..8). */
  rm: number;
  /** Columns per invocation / 4 (1..8). */
  rn: number;
  wgx: number;
  wgy: number;
}

export interface PanelConfig {
  kernel: "panel";
  /** Rows per workgroup (multiple of 4, 4..32; r % w == 0 or w % r == 0). */
  r: number;
  /** 4-column blocks per invocation (1..8). */
  rn: number;
  /** Invocations per workgroup. */
  w: number;
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

export interface TextureConfig {
  kernel: "texture";
  /** Rows per invocation (1..16). */
  r: number;
  /** 4-column blocks per invocation (1..8); 8 invocations per workgroup along the columns. */
  c: number;
}

export type MatmulConfig = Vec4Config | PanelConfig | TiledConfig | StridedConfig | TextureConfig;

/** Kernels that need 4-aligned layouts (see vec4Layout in matmul.ts). */
export type AlignedConfig = Vec4Config | PanelConfig;

/** Kernels that accept any layout. */
export type GeneralConfig = TiledConfig | StridedConfig;

/**
 * The choice in use on one runtime: `fast` for 4-aligned layouts (a texture `fast` takes any layout
 * that fits its textures), `general` for the rest.
 */
export interface MatmulChoice {
  fast: MatmulConfig;
  general: GeneralConfig;
  /** How the choice was made: "default", "tuned" or "cache". */
  source: string;
}

/** Bump when kernels or candidates change, so that cached tuning results are re-measured. */
export const MATMUL_TUNE_VERSION = 3;

export const VEC4_CANDIDATES: readonly Vec4Config[] = [
  { kernel: "vec4", rm: 2, rn: 2, wgx: 8, wgy: 8 },
  { kernel: "vec4", rm: 4, rn: 4, wgx: 8, wgy: 1 },
  { kernel: "vec4", rm: 4, rn: 8, wgx: 8, wgy: 1 },
];

/** Widest first: pickConfig falls back to a narrower panel when N would leave lanes idle. */
export const PANEL_CANDIDATES: readonly PanelConfig[] = [
  { kernel: "panel", r: 32, rn: 8, w: 16 },
  { kernel: "panel", r: 32, rn: 4, w: 16 },
];

/** Largest first: smaller blocks take over when the large ones would leave lanes idle. */
export const TEXTURE_CANDIDATES: readonly TextureConfig[] = [
  { kernel: "texture", r: 16, c: 8 },
  { kernel: "texture", r: 8, c: 8 },
  { kernel: "texture", r: 8, c: 4 },
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
  ...PANEL_CANDIDATES,
  ...TILED_CANDIDATES,
  ...STRIDED_CANDIDATES,
  ...TEXTURE_CANDIDATES,
];

/**
 * What the tuner measures on an adapter. CPU adapters skip the tiled kernels: their barriers are
 * ~30x slower there (see ENGINEERING.md) and llvmpipe needs about a minute to compile each.
 * (The panel kernel has barriers too, but one per 4 k over a whole R-row panel.) vec4 blocks
 * beyond 16x32 are left out everywhere: 32x32 took over a minute per layout on a busy 2-core
 * machine without running faster. On llvmpipe, panel 32x32 compiles in about 5-10 s per layout.
 * The texture kernel is measured on CPU adapters only (its largest block; smaller ones are picked
 * per problem); real GPUs read buffers at full speed and have the tiled kernels.
 */
export function candidatesFor(isFallbackAdapter: boolean): readonly MatmulConfig[] {
  return isFallbackAdapter
    ? [...VEC4_CANDIDATES, ...PANEL_CANDIDATES, ...STRIDED_CANDIDATES, TEXTURE_CANDIDATES[0]]
    : [...VEC4_CANDIDATES, ...PANEL_CANDIDATES, ...TILED_CANDIDATES, ...STRIDED_CANDIDATES];
}

/** Untuned defaults: CPU adapters get the panel kernel (fewest loads per FMA), GPUs tiled. */
export function defaultChoice(isFallbackAdapter: boolean): MatmulChoice {
  return isFallbackAdapter
    ? { fast: PANEL_CANDIDATES[0], general: STRIDED_CANDIDATES[0], source: "default" }
    : { fast: TILED_CANDIDATES[0], general: TILED_CANDIDATES[0], source: "default" };
}

export function configName(c: MatmulConfig): string {
  switch (c.kernel) {
    case "vec4":
      return `vec4 ${4 * c.rm}x${4 * c.rn} wg${c.wgx}x${c.wgy}`;
    case "panel":
      return `panel ${c.r}x${4 * c.rn} wg${c.w}`;
    case "tiled":
      return `tiled ${c.bm}x${c.bn}x${c.bk} ${c.tm}x${c.tn}`;
    case "strided":
      return `strided ${c.tm}x4 wg${c.wgx}x${c.wgy}`;
    case "texture":
      return `texture ${c.r}x${4 * c.c}`;
  }
}

/** Workgroup memory a configuration needs, in bytes (0 for the barrier-free kernels). */
export function workgroupBytes(c: MatmulConfig): number {
  if (c.kernel === "panel") return 16 * c.r;
  return c.kernel === "tiled" ? 4 * c.bk * (c.bm + c.bn) : 0;
}

export function invocationsPerWorkgroup(c: MatmulConfig): number {
  if (c.kernel === "panel") return c.w;
  if (c.kernel === "texture") return 8;
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
