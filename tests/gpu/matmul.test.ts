// matmul kernel family against a float64 CPU reference: every candidate configuration, all
// four layouts, odd shapes (not multiples of any tile), batching with strides and broadcast,
// offsets, bias, accumulate and alpha; shape errors.
import assert from "node:assert/strict";
import {
  matmul,
  matmulConfig,
  matmulWith,
  resolveProblem,
  useMatmulChoice,
  vec4Layout,
} from "../../src/gpu/kernels/matmul.ts";
import { DispatchProfiler } from "../../src/gpu/profiler.ts";
import {
  candidatesFor,
  configName,
  type MatmulConfig,
  TEXTURE_CANDIDATES,
  TILED_CANDIDATES,
  type TiledConfig,
} from "../../src/gpu/kernels/matmul_configs.ts";
import type { GpuRuntime } from "../../src/gpu/runtime.ts";
import { gpuTest, testRuntime, wgslOnly } from "../helpers/gpu.ts";
import { matmulTolerance, referenceMatmul } from "../../src/gpu/reference/matmul.ts";
import { assertClose } from "../../src/gpu/reference/compare.ts";
import { randomF32 } from "../../src/gpu/reference/random.ts";
import { makeOperand, type OperandSpec } from "../helpers/operands.ts";

interface Case {
  batch?: number | null; // out batch; null = rank 2
  M: number;
  K: number;
  N: number;
  a?: Partial<OperandSpec>;
  b?: Partial<OperandSpec>;
  bias?: boolean;
  accumulate?: boolean;
  alpha?: number;
}

let seed = 1;

/** Runs one case through `run` and checks it against the reference. */
async function check(
  rt: GpuRuntime,
  c: Case,
  run: (
    a: Parameters<typeof matmul>[1],
    b: Parameters<typeof matmul>[2],
    out: Parameters<typeof matmul>[3],
    opts: Parameters<typeof matmul>[4],
  ) => Promise<void>,
  what: string,
): Promise<void> {
  const batch = c.batch ?? null;
  const a = makeOperand(rt, { batch, rows: c.M, cols: c.K, seed: seed++, ...c.a });
  const b = makeOperand(rt, { batch, rows: c.K, cols: c.N, seed: seed++, ...c.b });
  const z = batch ?? 1;
  const outShape = batch === null ? [c.M, c.N] : [z, c.M, c.N];
  const before = c.accumulate ? randomF32(z * c.M * c.N, seed++) : undefined;
  const out = before ? rt.tensor(before, outShape) : rt.zeros(outShape);
  const biasValues = c.bias ? randomF32(c.N, seed++) : undefined;
  const bias = biasValues ? rt.tensor(biasValues, [c.N]) : undefined;
  try {
    await run(a.tensor, b.tensor, out, { bias, accumulate: c.accumulate, alpha: c.alpha });
    const got = await rt.readOne(out);
    const aBatched = a.tensor.rank === 3 && a.tensor.shape[0] > 1;
    const bBatched = b.tensor.rank === 3 && b.tensor.shape[0] > 1;
    const want = referenceMatmul(
      z,
      c.M,
      c.N,
      c.K,
      (zz, m, k) => a.at(aBatched ? zz : 0, m, k),
      (zz, k, n) => b.at(bBatched ? zz : 0, k, n),
      c.alpha ?? 1,
      biasValues,
      before,
    );
    assertClose(got, want.values, matmulTolerance(want, c.K), `${what} ${JSON.stringify(c)}`);
  } finally {
    a.tensor.dispose();
    b.tensor.dispose();
    out.dispose();
    bias?.dispose();
  }
}

const LAYOUTS = [
  { name: "NN", a: {}, b: {} },
  { name: "NT", a: {}, b: { transposed: true } },
  { name: "TN", a: { transposed: true }, b: {} },
  { name: "TT", a: { transposed: true }, b: { transposed: true } },
] as const;

/** Odd shapes: none is a multiple of a tile, some are smaller than any tile. */
const ODD_SHAPES = [
  { M: 1, K: 1, N: 1 },
  { M: 7, K: 13, N: 5 },
  { M: 33, K: 17, N: 65 },
  { M: 129, K: 3, N: 70 },
];

/** 4-aligned shapes (the vec4 kernel's domain) that still leave partial blocks at every edge. */
const ALIGNED_SHAPES = [
  { M: 4, K: 4, N: 4 },
  { M: 36, K: 20, N: 44 },
  { M: 68, K: 8, N: 132 },
];

const withConfig = (rt: GpuRuntime, config: MatmulConfig) =>
(
  a: Parameters<typeof matmul>[1],
  b: Parameters<typeof matmul>[2],
  out: Parameters<typeof matmul>[3],
  opts: Parameters<typeof matmul>[4],
) => matmulWith(rt, config, a, b, out, opts);

/** Small tiles check the tiled shader's logic where the tuned tiles take minutes to compile (llvmpipe). */
const SMALL_TILES: TiledConfig = { kernel: "tiled", bm: 32, bn: 32, bk: 8, tm: 2, tn: 2 };

/** The configurations the tuner measures on this adapter (all of them are tested). */
function tunedCandidates(rt: GpuRuntime): readonly MatmulConfig[] {
  return candidatesFor(rt.gpu.describe().isFallbackAdapter);
}

Deno.test({
  // Real GPUs pick these tiles, and no GPU runs CI: so they are checked here, on llvmpipe, where
  // each layout takes ~20 s to compile. One odd shape per layout, larger than a tile in M and N
  // with a partial K block, with bias, accumulate and alpha in the same call.
  name: "matmul: the GPU tiles (TILED_CANDIDATES) on odd shapes, all layouts",
  ...gpuTest,
  fn: async (t) => {
    const rt = await testRuntime();
    for (const config of TILED_CANDIDATES) {
      await t.step(configName(config), async () => {
        for (const layout of LAYOUTS) {
          await check(
            rt,
            {
              M: 133,
              K: 21,
              N: 141,
              a: layout.a,
              b: layout.b,
              bias: true,
              accumulate: true,
              alpha: 0.5,
            },
            withConfig(rt, config),
            `${configName(config)} ${layout.name}`,
          );
        }
      });
    }
  },
});

Deno.test({
  name: "matmul: general kernels on odd shapes, all layouts",
  ...gpuTest,
  fn: async (t) => {
    const rt = await testRuntime();
    const general = tunedCandidates(rt).filter((c) =>
      c.kernel === "strided" || c.kernel === "tiled"
    );
    const configs = general.some((c) => c.kernel === "tiled") ? general : [...general, SMALL_TILES];
    for (const config of configs) {
      await t.step(configName(config), async () => {
        for (const layout of LAYOUTS) {
          for (const shape of ODD_SHAPES) {
            await check(
              rt,
              { ...shape, a: layout.a, b: layout.b },
              withConfig(rt, config),
              `${configName(config)} ${layout.name}`,
            );
          }
        }
        // Padded rows, an odd offset, bias, accumulate and alpha together.
        await check(
          rt,
          {
            M: 9,
            K: 11,
            N: 6,
            a: { pad: 3, offset: 5 },
            b: { transposed: true, pad: 1, offset: 2 },
            bias: true,
            accumulate: true,
            alpha: -0.75,
          },
          withConfig(rt, config),
          configName(config),
        );
      });
    }
  },
});

Deno.test({
  name: "matmul: every vec4 candidate on aligned shapes, all layouts",
  ...gpuTest,
  fn: async (t) => {
    const rt = await testRuntime();
    for (const config of tunedCandidates(rt).filter((c) => c.kernel === "vec4")) {
      await t.step(configName(config), async () => {
        // Every layout is a separate compile (tens of seconds on llvmpipe for big blocks), so NT
        // and TN get one shape; NN and TT already run both loaders of each operand on all shapes.
        for (const layout of LAYOUTS) {
          const mixed = layout.name === "NT" || layout.name === "TN";
          for (const shape of mixed ? [ALIGNED_SHAPES[1]] : ALIGNED_SHAPES) {
            await check(
              rt,
              { ...shape, a: layout.a, b: layout.b },
              withConfig(rt, config),
              `${configName(config)} ${layout.name}`,
            );
          }
        }
        // Padded (4-aligned) rows and offsets, batched with a broadcast b, bias, accumulate, alpha.
        await check(
          rt,
          {
            batch: 3,
            M: 12,
            K: 16,
            N: 20,
            a: { pad: 4, batchPad: 8, offset: 4 },
            b: { batch: null, transposed: true, pad: 8, offset: 12 },
            bias: true,
            accumulate: true,
            alpha: 0.5,
          },
          withConfig(rt, config),
          configName(config),
        );
      });
    }
  },
});

/** Shapes for the panel kernel: partial row panels, and several column panels (N > 4·rn·w). */
const PANEL_SHAPES = [...ALIGNED_SHAPES, { M: 40, K: 12, N: 1032 }];

Deno.test({
  name: "matmul: every panel candidate on aligned shapes, all layouts",
  ...gpuTest,
  fn: async (t) => {
    const rt = await testRuntime();
    for (const config of tunedCandidates(rt).filter((c) => c.kernel === "panel")) {
      await t.step(configName(config), async () => {
        // As for vec4: NT and TN are separate compiles, so they get one shape each.
        for (const layout of LAYOUTS) {
          const mixed = layout.name === "NT" || layout.name === "TN";
          for (const shape of mixed ? [PANEL_SHAPES[3]] : PANEL_SHAPES) {
            await check(
              rt,
              { ...shape, a: layout.a, b: layout.b },
              withConfig(rt, config),
              `${configName(config)} ${layout.name}`,
            );
          }
        }
        // Padded (4-aligned) rows and offsets, batched with a broadcast b, bias, accumulate, alpha;
        // a transposed with a padded k stride.
        await check(
          rt,
          {
            batch: 3,
            M: 36,
            K: 16,
            N: 20,
            a: { pad: 4, batchPad: 8, offset: 4 },
            b: { batch: null, transposed: true, pad: 8, offset: 12 },
            bias: true,
            accumulate: true,
            alpha: 0.5,
          },
          withConfig(rt, config),
          configName(config),
        );
        await check(
          rt,
          {
            batch: 2,
            M: 12,
            K: 8,
            N: 16,
            a: { transposed: true, pad: 4, offset: 8 },
            b: { batch: 1, pad: 4 },
            bias: true,
            alpha: -1.5,
          },
          withConfig(rt, config),
          configName(config),
        );
      });
    }
  },
});

Deno.test({
  // Any layout packs into the textures, so the texture kernel is checked on the odd shapes too.
  name: "matmul: every texture candidate on odd and aligned shapes, all layouts, batched views",
  ...gpuTest,
  fn: async (t) => {
    const rt = await testRuntime();
    for (const config of TEXTURE_CANDIDATES) {
      await t.step(configName(config), async () => {
        for (const layout of LAYOUTS) {
          for (const shape of [...ODD_SHAPES, ALIGNED_SHAPES[2], { M: 37, K: 70, N: 300 }]) {
            await check(
              rt,
              { ...shape, a: layout.a, b: layout.b },
              withConfig(rt, config),
              `${configName(config)} ${layout.name}`,
            );
          }
        }
        // Padded rows and odd offsets, batched a over a broadcast (rank-2) b, bias, accumulate,
        // alpha; then a batch of b over a broadcast a, with K not a multiple of 4.
        await check(
          rt,
          {
            batch: 3,
            M: 13,
            K: 18,
            N: 21,
            a: { pad: 3, batchPad: 5, offset: 7 },
            b: { batch: null, transposed: true, pad: 2, offset: 3 },
            bias: true,
            accumulate: true,
            alpha: 0.5,
          },
          withConfig(rt, config),
          configName(config),
        );
        await check(
          rt,
          { batch: 2, M: 9, K: 7, N: 10, a: { batch: 1 }, b: { batchPad: 4 }, alpha: -1.5 },
          withConfig(rt, config),
          configName(config),
        );
        // Rows padded to multiples of 4 take the vec4 packer; their last texel is partial.
        await check(
          rt,
          { M: 9, K: 70, N: 30, a: { pad: 2 }, b: { pad: 2 }, bias: true },
          withConfig(rt, config),
          `${configName(config)} vec4 packing`,
        );
      });
    }
  },
});

Deno.test({
  name: "matmul: dispatch picks vec4 only for aligned layouts",
  ...gpuTest,
  fn: async () => {
    const rt = await testRuntime();
    const t = (shape: number[], strides: number[], offset = 0) =>
      rt.zeros([1]).view(shape, strides, offset);
    const out = rt.zeros([8, 8]);
    assert.deepEqual(vec4Layout(resolveProblem(t([8, 8], [8, 1]), t([8, 8], [8, 1]), out)), {
      aT: false,
      bT: false,
    });
    assert.deepEqual(vec4Layout(resolveProblem(t([8, 8], [1, 8]), t([8, 8], [1, 8]), out)), {
      aT: true,
      bT: true,
    });
    assert.equal(vec4Layout(resolveProblem(t([8, 8], [9, 1]), t([8, 8], [8, 1]), out)), null);
    assert.equal(vec4Layout(resolveProblem(t([8, 8], [8, 1], 2), t([8, 8], [8, 1]), out)), null);
    assert.equal(vec4Layout(resolveProblem(t([8, 8], [8, 2]), t([8, 8], [8, 1]), out)), null);
    assert.equal(vec4Layout(resolveProblem(t([8, 0], [0, 1]), t([0, 8], [8, 1]), out)), null);
    const odd = rt.zeros([8, 6]);
    assert.equal(vec4Layout(resolveProblem(t([8, 8], [8, 1]), t([8, 6], [6, 1]), odd)), null);
  },
});

Deno.test({
  name: "matmul: public entry point on odd, aligned and batched problems",
  ...gpuTest,
  fn: async (t) => {
    const rt = await testRuntime();
    const run = (
      a: Parameters<typeof matmul>[1],
      b: Parameters<typeof matmul>[2],
      out: Parameters<typeof matmul>[3],
      opts: Parameters<typeof matmul>[4],
    ) => matmul(rt, a, b, out, opts);
    await t.step("layouts and shapes", async () => {
      for (const layout of LAYOUTS) {
        // The last shape is large enough for the untuned default block (no fallback to smaller blocks).
        for (
          const shape of [...ODD_SHAPES, ...ALIGNED_SHAPES, { M: 100, K: 64, N: 96 }, {
            M: 128,
            K: 12,
            N: 256,
          }]
        ) {
          await check(rt, { ...shape, a: layout.a, b: layout.b }, run, `matmul ${layout.name}`);
        }
      }
    });
    await t.step("batched: strides, broadcast by stride 0 and by batch 1", async () => {
      await check(
        rt,
        { batch: 4, M: 5, K: 7, N: 9, a: { batchPad: 3 }, b: { batchPad: 5, transposed: true } },
        run,
        "batched",
      );
      await check(rt, { batch: 3, M: 8, K: 12, N: 16, b: { batch: 1 } }, run, "b batch 1");
      await check(rt, { batch: 2, M: 6, K: 5, N: 3, a: { batch: null } }, run, "a rank 2");
      // An explicit batch stride of 0 over a rank-2 buffer.
      const a = makeOperand(rt, { batch: null, rows: 4, cols: 8, seed: 99 });
      const b = makeOperand(rt, { batch: 2, rows: 8, cols: 4, seed: 98 });
      const aBroadcast = a.tensor.view([2, 4, 8], [0, 8, 1]);
      const out = rt.zeros([2, 4, 4]);
      await matmul(rt, aBroadcast, b.tensor, out, { alpha: 2 });
      const want = referenceMatmul(2, 4, 4, 8, (_z, m, k) => a.at(0, m, k), b.at, 2);
      assertClose(await rt.readOne(out), want.values, matmulTolerance(want, 8), "stride-0 batch");
    });
    await t.step("bias, accumulate, alpha", async () => {
      await check(rt, { M: 17, K: 9, N: 12, bias: true }, run, "bias");
      await check(rt, { M: 17, K: 8, N: 12, accumulate: true, alpha: -2 }, run, "accumulate");
      await check(
        rt,
        { M: 64, K: 32, N: 64, bias: true, accumulate: true, alpha: 0.25 },
        run,
        "all",
      );
      await check(rt, { M: 3, K: 0, N: 5, bias: true, accumulate: true }, run, "K = 0");
      // Aligned, but an empty a cannot be bound as vec4s: must take the general kernel.
      await check(rt, { M: 36, K: 0, N: 20, bias: true, accumulate: true }, run, "aligned K = 0");
    });
  },
});

Deno.test({
  name: "matmul: shape errors are RangeErrors naming both shapes",
  ...gpuTest,
  fn: async () => {
    const rt = await testRuntime();
    const a = rt.zeros([3, 4]), b = rt.zeros([5, 6]), out = rt.zeros([3, 6]);
    await assert.rejects(
      () => matmul(rt, a, b, out),
      (e: Error) =>
        e instanceof RangeError && /\[3, 4\]/.test(e.message) && /\[5, 6\]/.test(e.message),
    );
    const b2 = rt.zeros([4, 6]);
    await assert.rejects(() => matmul(rt, a, b2, rt.zeros([6, 3])), RangeError);
    await assert.rejects(() => matmul(rt, a, b2, out, { bias: rt.zeros([5]) }), RangeError);
    await assert.rejects(
      () => matmul(rt, rt.zeros([2, 3, 4]), rt.zeros([3, 4, 6]), rt.zeros([2, 3, 6])),
      RangeError,
    );
    await assert.rejects(() => matmul(rt, a, b2, rt.zeros([6, 3]).transposeView()), RangeError);
    await assert.rejects(() => matmul(rt, a, b2, a.view([3, 6], [6, 1])), RangeError);
    for (const t of [a, b, out, b2]) t.dispose();
  },
});

Deno.test({
  name: "matmul: matmulConfig names the configurations in use",
  ...gpuTest,
  ...wgslOnly,
  fn: async () => {
    const rt = await testRuntime();
    const config = matmulConfig(rt);
    assert.equal(typeof (config.fast as { name: unknown }).name, "string");
    assert.notEqual((config.general as { kernel: string }).kernel, "vec4");
  },
});

Deno.test({
  name: "matmul: a texture choice takes only products that repay their packing",
  ...gpuTest,
  ...wgslOnly,
  fn: async () => {
    const rt = await testRuntime();
    const kernelsFor = async (M: number, K: number, N: number) => {
      const a = rt.zeros([M, K]), b = rt.zeros([K, N]), out = rt.zeros([M, N]);
      const profiler = new DispatchProfiler(rt.device, 16, "wall");
      const restore = useMatmulChoice(rt, TEXTURE_CANDIDATES[0]);
      try {
        rt.profiler = profiler;
        await matmul(rt, a, b, out);
        rt.profiler = null;
        rt.flush();
        return (await profiler.collect()).kernels.map((k) => k.name);
      } finally {
        rt.profiler = null;
        restore();
        profiler.dispose();
        for (const t of [a, b, out]) t.dispose();
      }
    };
    assert.ok((await kernelsFor(512, 64, 512)).includes("matmul_texture"));
    // 128 rows: packing the 64×768 b would cost half the product; the buffer kernels take it.
    const small = await kernelsFor(128, 64, 768);
    assert.ok(!small.some((k) => k.startsWith("matmul_texture") || k.startsWith("matmul_pack")));
  },
});

Deno.test({
  name: "matmul: on the CPU backend matmulConfig names OpenBLAS sgemm",
  ...gpuTest,
  ignore: !wgslOnly.ignore, // only on the CPU backend
  fn: async () => {
    const rt = await testRuntime();
    assert.deepEqual(matmulConfig(rt), { kernel: "openblas-sgemm", source: "cpu backend" });
  },
});
