// matmul: out = alpha · a·b (+ bias) (+ out), batched, over strided views. The layout is read
// from the strides and dispatched to the best kernel of the family (see matmul_configs.ts):
// 4-aligned NN / NT / TN / TT layouts use the tuned "fast" kernel, anything else the "general" one.
import { adapterKey, readTuneCache, timeGpu, writeTuneCache } from "../autotune.ts";
import { hostMatmul } from "../host/matmul.ts";
import { bestFigure, retuneReason } from "../retune.ts";
import type { DispatchRequest, GpuRuntime } from "../runtime.ts";
import type { Tensor } from "../tensor.ts";
import { type MatmulOptions, type MatmulProblem, resolveProblem } from "./matmul_problem.ts";
import {
  type AlignedConfig,
  candidatesFor,
  configName,
  defaultChoice,
  type GeneralConfig,
  invocationsPerWorkgroup,
  MATMUL_TUNE_VERSION,
  type MatmulChoice,
  type MatmulConfig,
  PANEL_CANDIDATES,
  type PanelConfig,
  parseConfig,
  TEXTURE_CANDIDATES,
  type TextureConfig,
  VEC4_CANDIDATES,
  type Vec4Config,
  workgroupBytes,
} from "./matmul_configs.ts";

export { type MatmulOptions, type MatmulProblem, resolveProblem } from "./matmul_problem.ts";

const aligned = (...values: number[]) => values.every((v) => v % 4 === 0);

/** The vec4 kernel's transpose flags for this problem, or null when the layout does not allow vec4 loads. */
export function vec4Layout(p: MatmulProblem): { aT: boolean; bT: boolean } | null {
  // K = 0: an empty operand's buffer is smaller than one vec4, below a vec4 binding's minimum.
  if (p.K === 0 || !aligned(p.K, p.N, p.outOff)) return null;
  let aT: boolean;
  if (p.a.sk === 1 && aligned(p.a.sm, p.a.off, p.a.sb)) aT = false;
  else if (p.a.sm === 1 && aligned(p.M, p.a.sk, p.a.off, p.a.sb)) aT = true;
  else return null;
  let bT: boolean;
  if (p.b.sn === 1 && aligned(p.b.sk, p.b.off, p.b.sb)) bT = false;
  else if (p.b.sk === 1 && aligned(p.b.sn, p.b.off, p.b.sb)) bT = true;
  else return null;
  return { aT, bT };
}

interface TuneState {
  choice: MatmulChoice;
  tuning?: Promise<Record<string, unknown>>;
  report?: Record<string, unknown>;
}

// Per runtime, not per device generation: a re-acquired device is the same adapter.
const states = new WeakMap<GpuRuntime, TuneState>();

function stateOf(rt: GpuRuntime): TuneState {
  let state = states.get(rt);
  if (!state) {
    state = { choice: defaultChoice(rt.gpu.describe().isFallbackAdapter) };
    states.set(rt, state);
  }
  return state;
}

/** Fewer invocations than this leave SIMD lanes / cores idle; smaller blocks then win. */
const MIN_INVOCATIONS = 128;

const vec4Invocations = (c: Vec4Config, p: MatmulProblem) =>
  Math.ceil(p.M / (4 * c.rm)) * Math.ceil(p.N / (4 * c.rn)) * p.batch;

/** Invocations of a panel launch that own at least one in-range column. */
const panelInvocations = (c: PanelConfig, p: MatmulProblem) =>
  Math.ceil(p.M / c.r) * Math.ceil(p.N / (4 * c.rn)) * p.batch;

/** Columns a panel launch computes per column of out (> 1: lanes past N idle). */
const panelOvershoot = (c: PanelConfig, p: MatmulProblem) => {
  const width = 4 * c.rn * c.w;
  return Math.ceil(p.N / width) * width / p.N;
};

const isAligned = (c: MatmulConfig): c is AlignedConfig =>
  c.kernel === "vec4" || c.kernel === "panel";

const isGeneral = (c: MatmulConfig): c is GeneralConfig =>
  c.kernel === "tiled" || c.kernel === "strided";

/** The packed operands' texture sizes (texels), or null when a dimension exceeds the device's. */
function textureShapes(p: MatmulProblem, maxDim: number) {
  if (p.K === 0) return null;
  const k4 = Math.ceil(p.K / 4);
  const aZ = p.a.sb === 0 ? 1 : p.batch;
  const bZ = p.b.sb === 0 ? 1 : p.batch;
  const shapes = {
    k4,
    kp: 4 * k4,
    n4: Math.ceil(p.N / 4),
    aZ,
    bZ,
    aHeight: aZ * p.M,
    bHeight: bZ * 4 * k4,
  };
  const fits = [shapes.k4, shapes.n4, shapes.aHeight, shapes.bHeight].every((d) => d <= maxDim);
  return fits ? shapes : null;
}

const textureInvocations = (c: TextureConfig, p: MatmulProblem) =>
  Math.ceil(p.M / c.r) * Math.ceil(p.N / (4 * c.c)) * p.batch;

/**
 * Packing costs about as much per element as ~64 multiply-adds on llvmpipe, against ~1.5x faster
 * products: packing b is a 64/M share of the product's work (a: 64/N), which must stay small for
 * the texture kernel to win (e.g. GPT-2's forward at 128 tokens packs 768×3072 weights for a
 * 128-row product, and runs faster on the buffer kernels).
 */
const PACK_COST = 64;
const MAX_PACK_SHARE = 0.4;

/**
 * The texture kernel takes any layout that fits its textures and is large enough to repay the
 * packing: the tuned block, or a smaller one when that would leave lanes idle; null (use the
 * buffer kernels) otherwise.
 */
function pickTexture(config: TextureConfig, p: MatmulProblem, maxDim: number) {
  if (PACK_COST / p.M + PACK_COST / p.N > MAX_PACK_SHARE) return null;
  if (!textureShapes(p, maxDim)) return null;
  return [config, ...TEXTURE_CANDIDATES.filter((c) => c.r * c.c < config.r * config.c)]
    .find((c) => textureInvocations(c, p) >= MIN_INVOCATIONS) ?? null;
}

/**
 * The panel width follows N: the widest panel of the tuned height that does not leave many lanes
 * past N idle (e.g. N = 768 with 512-column panels), else the one that leaves fewest. Problems
 * too small to fill the lanes go to the vec4 kernel's small blocks.
 */
function pickPanel(config: PanelConfig, p: MatmulProblem): MatmulConfig {
  const fits = [config, ...PANEL_CANDIDATES.filter((c) => c.r === config.r)]
    .filter((c) => panelInvocations(c, p) >= MIN_INVOCATIONS)
    .sort((x, y) => y.rn * y.w - x.rn * x.w);
  if (fits.length === 0) {
    return VEC4_CANDIDATES.findLast((c) => vec4Invocations(c, p) >= MIN_INVOCATIONS) ??
      VEC4_CANDIDATES[0];
  }
  return fits.find((c) => panelOvershoot(c, p) <= 1.125) ??
    fits.reduce((best, c) => panelOvershoot(c, p) < panelOvershoot(best, p) ? c : best);
}

function pickConfig(
  choice: MatmulChoice,
  p: MatmulProblem,
  canVec4: boolean,
  maxTextureDim: number,
): MatmulConfig {
  if (choice.fast.kernel === "texture") {
    const texture = pickTexture(choice.fast, p, maxTextureDim);
    if (texture) return texture;
    // Small or oversized problems: the register-blocked buffer kernels.
    choice = { ...choice, fast: VEC4_CANDIDATES[VEC4_CANDIDATES.length - 1] };
  }
  const config = canVec4 || !isAligned(choice.fast) ? choice.fast : choice.general;
  if (config.kernel === "panel") return pickPanel(config, p);
  if (config.kernel !== "vec4" || vec4Invocations(config, p) >= MIN_INVOCATIONS) return config;
  const smaller = VEC4_CANDIDATES.filter((c) => c.rm <= config.rm && c.rn <= config.rn);
  return smaller.findLast((c) => vec4Invocations(c, p) >= MIN_INVOCATIONS) ?? smaller[0] ?? config;
}

/** The dispatch for one configuration (exported so that tests and the tuner can run every candidate). */
export function matmulRequest(
  config: MatmulConfig,
  p: MatmulProblem,
  a: Tensor,
  b: Tensor,
  out: Tensor,
  options: MatmulOptions = {},
): DispatchRequest {
  const flags = (options.bias ? 1 : 0) | (options.accumulate ? 2 : 0);
  const params = {
    u: [
      p.M,
      p.N,
      p.K,
      p.a.off,
      p.a.sm,
      p.a.sk,
      p.a.sb,
      p.b.off,
      p.b.sk,
      p.b.sn,
      p.b.sb,
      p.outOff,
      p.M * p.N,
      options.bias?.offset ?? 0,
      flags,
    ],
    f: [options.alpha ?? 1],
  };
  // A bias-less launch still binds something read-only there (the shader uses the binding).
  const bindings = [a, b, out, options.bias ?? a];
  switch (config.kernel) {
    case "vec4": {
      const layout = vec4Layout(p);
      if (!layout) throw new Error(`matmul: ${configName(config)} needs a 4-aligned layout`);
      return {
        pipeline: {
          shader: "matmul_vec4",
          defines: {
            RM: config.rm,
            RN: config.rn,
            WGX: config.wgx,
            WGY: config.wgy,
            A_T: layout.aT,
            B_T: layout.bT,
          },
        },
        params,
        bindings,
        workgroups: [
          Math.ceil(p.N / (4 * config.rn * config.wgx)),
          Math.ceil(p.M / (4 * config.rm * config.wgy)),
          p.batch,
        ],
      };
    }
    case "panel": {
      const layout = vec4Layout(p);
      if (!layout) throw new Error(`matmul: ${configName(config)} needs a 4-aligned layout`);
      return {
        pipeline: {
          shader: "matmul_panel",
          defines: { R: config.r, RN: config.rn, W: config.w, A_T: layout.aT, B_T: layout.bT },
        },
        params,
        bindings,
        workgroups: [
          Math.ceil(p.N / (4 * config.rn * config.w)),
          Math.ceil(p.M / config.r),
          p.batch,
        ],
      };
    }
    case "strided":
      return {
        pipeline: {
          shader: "matmul_strided",
          defines: { TM: config.tm, WGX: config.wgx, WGY: config.wgy },
        },
        params,
        bindings,
        workgroups: [
          Math.ceil(p.N / (4 * config.wgx)),
          Math.ceil(p.M / (config.tm * config.wgy)),
          p.batch,
        ],
      };
    case "tiled":
      return {
        pipeline: {
          shader: "matmul_tiled",
          defines: { BM: config.bm, BN: config.bn, BK: config.bk, TM: config.tm, TN: config.tn },
        },
        params,
        bindings,
        workgroups: [Math.ceil(p.N / config.bn), Math.ceil(p.M / config.bm), p.batch],
      };
    case "texture":
      throw new Error("matmul: the texture kernel is several dispatches; use textureRequests");
  }
}

/**
 * The texture kernel's dispatches: pack a into texture "matmul-a" ([Za·M rows, ceil(K/4)
 * texels]) and b into "matmul-b" ([Zb·Kp rows, ceil(N/4) texels]), then the blocked product.
 */
function textureRequests(
  rt: GpuRuntime,
  config: TextureConfig,
  p: MatmulProblem,
  a: Tensor,
  b: Tensor,
  out: Tensor,
  options: MatmulOptions,
): DispatchRequest[] {
  const shapes = textureShapes(p, rt.device.limits.maxTextureDimension2D);
  if (!shapes) throw new Error(`matmul: ${configName(config)}: operands exceed the texture size`);
  const ta = rt.scratchTexture("matmul-a", shapes.k4, shapes.aHeight);
  const tb = rt.scratchTexture("matmul-b", shapes.n4, shapes.bHeight);
  const pack = (
    src: Tensor,
    dst: GPUTextureView,
    rows: number,
    cols: number,
    prows: number,
    view: { off: number; sr: number; sc: number; sb: number },
    batch: number,
  ): DispatchRequest => ({
    pipeline: {
      shader: "matmul_pack",
      entryPoint: view.sc === 1 && aligned(view.off, view.sr, view.sb) ? "main_vec4" : "main",
    },
    params: { u: [rows, cols, prows, view.off, view.sr, view.sc, view.sb] },
    bindings: [src, dst],
    workgroups: [Math.ceil(Math.ceil(cols / 4) / 8), Math.ceil(prows / 8), batch],
  });
  const flags = (options.bias ? 1 : 0) | (options.accumulate ? 2 : 0);
  return [
    pack(a, ta, p.M, p.K, p.M, { off: p.a.off, sr: p.a.sm, sc: p.a.sk, sb: p.a.sb }, shapes.aZ),
    pack(
      b,
      tb,
      p.K,
      p.N,
      shapes.kp,
      { off: p.b.off, sr: p.b.sk, sc: p.b.sn, sb: p.b.sb },
      shapes.bZ,
    ),
    {
      pipeline: { shader: "matmul_texture", defines: { R: config.r, C: config.c } },
      params: {
        u: [
          p.M,
          p.N,
          p.K,
          shapes.aZ > 1 ? p.M : 0,
          shapes.bZ > 1 ? shapes.kp : 0,
          p.outOff,
          p.M * p.N,
          options.bias?.offset ?? 0,
          flags,
        ],
        f: [options.alpha ?? 1],
      },
      // A bias-less launch binds a's buffer there (never out's: read and read-write would clash).
      bindings: [ta, tb, out, options.bias ?? a],
      workgroups: [Math.ceil(p.N / (4 * config.c * 8)), Math.ceil(p.M / config.r), p.batch],
    },
  ];
}

/** Records the dispatches of one configuration. */
async function run(
  rt: GpuRuntime,
  config: MatmulConfig,
  p: MatmulProblem,
  a: Tensor,
  b: Tensor,
  out: Tensor,
  options: MatmulOptions,
): Promise<void> {
  if (config.kernel !== "texture") {
    await rt.dispatch(matmulRequest(config, p, a, b, out, options));
    return;
  }
  for (const request of textureRequests(rt, config, p, a, b, out, options)) {
    await rt.dispatch(request);
  }
}

/**
 * out[..., M, N] (contiguous) = alpha · a[..., M, K] · b[..., K, N] (+ bias) (+ out if accumulate).
 * a and b may be transposed views (tensor.transposeView()) — that is how NN, NT and TN are
 * expressed; rank 2, or rank 3 with a leading batch axis whose strides come from the tensors
 * (a batch stride of 0, or a batch of 1, broadcasts). out must not share a buffer with a or b.
 */
export async function matmul(
  rt: GpuRuntime,
  a: Tensor,
  b: Tensor,
  out: Tensor,
  options: MatmulOptions = {},
): Promise<void> {
  const p = resolveProblem(a, b, out, options.bias);
  if (p.M === 0 || p.N === 0 || p.batch === 0) return;
  if (rt.isHost) {
    rt.timedOnHost("openblas_sgemm", () => hostMatmul(p, a, b, out, options));
    return;
  }
  const config = pickConfig(
    stateOf(rt).choice,
    p,
    vec4Layout(p) !== null,
    rt.device.limits.maxTextureDimension2D,
  );
  await run(rt, config, p, a, b, out, options);
}

/** Runs one specific configuration (tests and the tuner); throws if it cannot take the layout. */
export async function matmulWith(
  rt: GpuRuntime,
  config: MatmulConfig,
  a: Tensor,
  b: Tensor,
  out: Tensor,
  options: MatmulOptions = {},
): Promise<void> {
  const p = resolveProblem(a, b, out, options.bias);
  if (p.M === 0 || p.N === 0 || p.batch === 0) return;
  if (rt.isHost) return hostMatmul(p, a, b, out, options); // one GEMM: no tile configurations
  await run(rt, config, p, a, b, out, options);
}

/** The tile configuration in use on this runtime's adapter (for GET /v1/device). */
export function matmulConfig(rt: GpuRuntime): Record<string, unknown> {
  if (rt.isHost) return { kernel: "openblas-sgemm", source: "cpu backend" };
  const state = stateOf(rt);
  return {
    fast: { ...state.choice.fast, name: configName(state.choice.fast) },
    general: { ...state.choice.general, name: configName(state.choice.general) },
    source: state.choice.source,
    ...(state.report ? { tuning: state.report } : {}),
  };
}

/** Candidates this device can run at all (workgroup memory and size limits). */
function feasible(rt: GpuRuntime, c: MatmulConfig): boolean {
  const limits = rt.device.limits;
  return workgroupBytes(c) <= limits.maxComputeWorkgroupStorageSize &&
    invocationsPerWorkgroup(c) <= limits.maxComputeInvocationsPerWorkgroup;
}

// Large enough that the biggest blocks fill the lanes and that per-launch costs (sync, the
// texture kernel's packing) weigh as little as in a model's matmuls: results at 256 mislead on
// llvmpipe, and at 512 the texture kernel only ties what it beats by 1.3x at 1024. Quick mode
// takes fewer repeats instead.
const PROBE_SIZE = 1024;

/** The square problem every candidate (and a probe of a cached choice) is timed on. */
function probeProblem(rt: GpuRuntime) {
  const size = PROBE_SIZE;
  const data = new Float32Array(size * size);
  for (let i = 0; i < data.length; i++) data[i] = ((i * 7919) % 1000) / 1000 - 0.5;
  const a = rt.tensor(data, [size, size]);
  const b = rt.tensor(data, [size, size]);
  const out = rt.zeros([size, size]);
  return {
    size,
    a,
    b,
    out,
    dispose() {
      a.dispose();
      b.dispose();
      out.dispose();
    },
  };
}

/** GFLOP/s of one configuration on the probe problem now (one warm-up, one timed run). */
async function probeRate(rt: GpuRuntime, config: MatmulConfig): Promise<number> {
  const probe = probeProblem(rt);
  try {
    const ms = await timeGpu(rt, () => matmulWith(rt, config, probe.a, probe.b, probe.out), {
      warmup: 1,
      reps: 1,
    });
    return 2 * probe.size ** 3 / ms / 1e6;
  } finally {
    probe.dispose();
  }
}

async function measureCandidates(
  rt: GpuRuntime,
  quick: boolean,
  only?: readonly MatmulConfig[],
): Promise<{ choice: MatmulChoice; report: Record<string, unknown> }> {
  const { size, a, b, out, dispose } = probeProblem(rt);
  const gflops: Record<string, number | string> = {};
  let best: { config: MatmulConfig; rate: number } | null = null;
  let bestGeneral: { config: GeneralConfig; rate: number } | null = null;
  try {
    const candidates = only ?? candidatesFor(rt.gpu.describe().isFallbackAdapter);
    for (const config of candidates.filter((c) => feasible(rt, c))) {
      const name = configName(config);
      try {
        // A candidate 4x slower than the best so far is not worth more repeats.
        const ms = await timeGpu(rt, () => matmulWith(rt, config, a, b, out), {
          warmup: 1,
          reps: quick ? 2 : 3,
          giveUpMs: best ? 4 * (2 * size ** 3 / best.rate / 1e6) : undefined,
        });
        const rate = 2 * size ** 3 / ms / 1e6;
        gflops[name] = Number(rate.toFixed(2));
        if (!best || rate > best.rate) best = { config, rate };
        if (isGeneral(config) && (!bestGeneral || rate > bestGeneral.rate)) {
          bestGeneral = { config, rate };
        }
      } catch (e) {
        gflops[name] = `failed: ${e instanceof Error ? e.message : e}`;
      }
    }
  } finally {
    dispose();
  }
  const fallback = defaultChoice(rt.gpu.describe().isFallbackAdapter);
  return {
    choice: {
      fast: best?.config ?? fallback.fast,
      general: bestGeneral?.config ?? fallback.general,
      source: "tuned",
    },
    report: { probe: `${size}x${size}x${size}`, gflops },
  };
}

/**
 * Makes `fast` this runtime's choice for 4-aligned (and, for the texture kernel, all fitting)
 * problems, as tuning would; returns a function restoring the previous choice. For tests and
 * benchmarks that run a whole model on one kernel.
 */
export function useMatmulChoice(rt: GpuRuntime, fast: MatmulConfig): () => void {
  const state = stateOf(rt);
  const previous = state.choice;
  state.choice = { ...previous, fast, source: "set" };
  return () => {
    state.choice = previous;
  };
}

/** Measures every candidate again now, whatever the cache holds, and caches the result. */
export function retuneMatmul(
  rt: GpuRuntime,
  options: Omit<TuneOptions, "force"> = {},
): Promise<Record<string, unknown>> {
  const state = stateOf(rt);
  // A tuning under way is superseded: the next call starts afresh.
  state.tuning = undefined;
  return tuneMatmul(rt, { ...options, force: true });
}

/** Drops this runtime's tuning (the next tuneMatmul measures or reads the cache again). */
export function forgetMatmulTuning(rt: GpuRuntime): void {
  states.delete(rt);
}

export interface TuneOptions {
  /** JSON cache keyed by adapter description + driver. */
  cacheFile?: string;
  /** Fewer repeats per candidate. */
  quick?: boolean;
  /** Measure even when the cache holds a choice (POST /v1/device/tune). */
  force?: boolean;
  /** Probe a cached choice before trusting it (default true); see src/gpu/retune.ts. */
  probe?: boolean;
  /** Measure only these candidates (default: every candidate for the adapter). */
  candidates?: readonly MatmulConfig[];
}

/**
 * Autotunes a small candidate set once per adapter; caches the choice in `cacheFile` when given.
 * A cached choice is measured again when its figure is far below the adapter's best measurement
 * or a probe of it now runs far faster (it was tuned on a busy machine; src/gpu/retune.ts). The
 * cache keeps `bestGflops`, the best any tuning measured on the adapter. Safe to call many times
 * (only the first does work).
 */
export function tuneMatmul(
  rt: GpuRuntime,
  options: TuneOptions = {},
): Promise<Record<string, unknown>> {
  const state = stateOf(rt);
  state.tuning ??= (async () => {
    const key = adapterKey(rt);
    let retuned: string | null = options.force ? "requested" : null;
    let previousBest: number | null = null;
    if (options.cacheFile) {
      const cached = await readTuneCache(options.cacheFile, key, "matmul");
      const fast = parseConfig(cached?.fast);
      const general = parseConfig(cached?.general);
      previousBest = typeof cached?.bestGflops === "number"
        ? cached.bestGflops
        : bestFigure(cached?.gflops);
      if (
        !options.force && cached?.version === MATMUL_TUNE_VERSION && fast && general &&
        isGeneral(general) && feasible(rt, fast) && feasible(rt, general)
      ) {
        const recorded = (cached.gflops as Record<string, unknown> | undefined)?.[configName(fast)];
        const figures = {
          figure: typeof recorded === "number" ? recorded : null,
          best: previousBest,
        };
        let reason = retuneReason(figures, null);
        if (reason === null && (options.probe ?? true)) {
          reason = retuneReason(figures, await probeRate(rt, fast));
        }
        if (reason === null) {
          state.choice = { fast, general, source: "cache" };
          return matmulConfig(rt);
        }
        retuned = reason;
      }
    }
    const { choice, report } = await measureCandidates(
      rt,
      options.quick ?? false,
      options.candidates,
    );
    const bestGflops = Math.max(previousBest ?? 0, bestFigure(report.gflops) ?? 0);
    state.choice = choice;
    state.report = { ...report, bestGflops, ...(retuned ? { retuned } : {}) };
    if (options.cacheFile) {
      await writeTuneCache(options.cacheFile, key, "matmul", {
        version: MATMUL_TUNE_VERSION,
        fast: choice.fast,
        general: choice.general,
        ...report,
        bestGflops,
      });
    }
    return matmulConfig(rt);
  })().catch((e) => {
    state.tuning = undefined; // a failed attempt (e.g. device loss) may be retried
    throw e;
  });
  return state.tuning;
}
