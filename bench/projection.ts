// Gradient projection: projected per-example gradients in training examples/s, Kronecker (LoGra)
// against dense (TRAK) at the same k over the same parameters (every linear layer), and the dense
// projection against the plain backward it follows; scoring from stored gradients in pairs/s.
// GPT-2-124M (Kronecker only: a dense projection of 124M parameters is out of reach of a CPU
// adapter) is the opt-in suite projection-124m.
import type { GpuRuntime } from "../src/gpu/runtime.ts";
import { median } from "../src/gpu/autotune.ts";
import { parseGpt2Config } from "../src/gpt2/config.ts";
import { Gpt2Model } from "../src/gpt2/model.ts";
import { initParams, type ParamSet } from "../src/gpt2/params.ts";
import { summedLoss } from "../src/gpt2/taps.ts";
import { type Sequence, sequenceBatches } from "../src/influence/sequences.ts";
import { projectGradients } from "../src/projection/engine.ts";
import type { ParameterSelection, ProjectionKind } from "../src/projection/math.ts";
import { type GradientScoreMethod, gradientScores } from "../src/projection/scores.ts";
import { seededUniform } from "../src/random.ts";
import type { BenchFigure, BenchSuite } from "./suite.ts";

interface Shape {
  L: number;
  d: number;
  T: number;
  V: number;
}

function modelOf(shape: Shape): ParamSet {
  return initParams(
    parseGpt2Config({
      vocab_size: shape.V,
      n_positions: Math.max(shape.T, 64),
      n_embd: shape.d,
      n_layer: shape.L,
      n_head: Math.max(2, shape.d / 64),
    }),
    1,
  );
}

function sequences(n: number, T: number, V: number, seed: number): Sequence[] {
  const next = seededUniform(seed);
  return Array.from({ length: n }, (_, i) => ({
    id: `s${i}`,
    tokens: Array.from({ length: T }, () => Math.floor(next() * V)),
    lossMask: Array.from({ length: T }, () => 1),
  }));
}

const label = (s: Shape) => `L=${s.L} d=${s.d} T=${s.T}`;

/** Examples/s of projectGradients (median of `runs`, after one warm-up on one example). */
async function projectionRate(
  rt: GpuRuntime,
  params: ParamSet,
  seqs: Sequence[],
  kind: ProjectionKind,
  dim: number,
  parameters: ParameterSelection,
  runs: number,
): Promise<number> {
  const run = (s: Sequence[], k = dim) =>
    projectGradients({
      runtime: rt,
      params,
      sequences: s,
      projection: { kind, dim: k, seed: 1 },
      parameters,
      batchSize: 8,
    });
  // Warm-up on a full batch (pipelines, matmul choices); dense at a small k (its cost grows with k).
  await run(seqs.slice(0, 8), kind === "dense" ? 64 : dim);
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await run(seqs);
    times.push((performance.now() - t) / 1000);
  }
  return seqs.length / median(times);
}

/** Examples/s of the backward alone with parameter gradients, one example at a time. */
async function backwardRate(rt: GpuRuntime, params: ParamSet, seqs: Sequence[]) {
  const model = Gpt2Model.create(rt, params);
  try {
    const pass = async () => {
      for (const sb of sequenceBatches(seqs, 1)) {
        await model.backward(sb.batch, summedLoss(), {}, { parameterGradients: true });
      }
    };
    await pass();
    const t = performance.now();
    await pass();
    return seqs.length / ((performance.now() - t) / 1000);
  } finally {
    model.dispose();
  }
}

async function projectionFigures(rt: GpuRuntime, quick: boolean): Promise<BenchFigure[]> {
  const figures: BenchFigure[] = [];
  const shapes: Shape[] = [{ L: 2, d: 64, T: 64, V: 257 }, { L: 4, d: 128, T: 64, V: 257 }];
  for (const shape of shapes) {
    const params = modelOf(shape);
    const denseSeqs = sequences(8, shape.T, shape.V, 1); // one staged group
    const kronSeqs = sequences(quick ? 16 : 64, shape.T, shape.V, 2);
    const runs = quick ? 1 : 3;
    const backward = await backwardRate(rt, params, denseSeqs);
    for (const k of [1024, 8192]) {
      const dense = await projectionRate(rt, params, denseSeqs, "dense", k, "linear", runs);
      const kron = await projectionRate(rt, params, kronSeqs, "kronecker", k, "linear", runs);
      figures.push({
        name: `Kronecker projection, linear layers, k=${k} (${label(shape)})`,
        unit: "examples/s",
        value: kron,
        baselineName: "dense projection, same k and parameters",
        baseline: dense,
        speedup: kron / dense,
        notes: "LoGra: P_outᵀ s and [a, 1]·P_in from the backward's taps, summed over tokens; " +
          "batches of 8, no parameter gradients; dense: one backward per example with " +
          "parameter gradients, 8 gradients staged, then Pᵀg with P hashed in the kernel",
      });
      figures.push({
        name: `dense projection, linear layers, k=${k} (${label(shape)})`,
        unit: "examples/s",
        value: dense,
        baselineName: "the backward alone (parameter gradients, one example at a time)",
        baseline: backward,
        speedup: dense / backward,
      });
    }
  }
  return figures;
}

function scoringFigures(quick: boolean): BenchFigure[] {
  const M = quick ? 512 : 2048, Q = 32, k = 1024;
  const train = Float32Array.from(sequences(1, M * k, 1000, 3)[0].tokens, (v) => v / 500 - 1);
  const queries = Float32Array.from(sequences(1, Q * k, 1000, 4)[0].tokens, (v) => v / 500 - 1);
  const rate = (method: GradientScoreMethod) => {
    const t = performance.now();
    gradientScores({ train, queries, M, Q, k, method });
    return (M * Q) / ((performance.now() - t) / 1000);
  };
  const dot = rate("dot");
  const trak = rate("trak");
  return [
    {
      name: `scores from stored gradients, dot, ${Q} x ${M}, k=${k} (float64, CPU)`,
      unit: "pairs/s",
      value: dot,
      baselineName: null,
      baseline: null,
      speedup: null,
    },
    {
      name: `scores from stored gradients, trak, ${Q} x ${M}, k=${k} (float64, CPU)`,
      unit: "pairs/s",
      value: trak,
      baselineName: "dot on the same sets",
      baseline: dot,
      speedup: trak / dot,
      notes: "Cholesky of the smaller of ΦᵀΦ + λI [k, k] and ΦΦᵀ + λI [M, M] (Woodbury)",
    },
  ];
}

export const projectionSuite: BenchSuite = {
  name: "projection",
  run: async (rt, { quick }) => [...await projectionFigures(rt, quick), ...scoringFigures(quick)],
};

/**
 * GPT-2-124M's shapes: Kronecker projection of the 24 MLP layers at k = 6,144 (16×16 per layer;
 * 8,192 does not split evenly over 24 layers). Opt-in: minutes on a CPU adapter.
 */
export const projection124mSuite: BenchSuite = {
  name: "projection-124m",
  onlyWhenNamed: true,
  run: async (rt, { quick }) => {
    const params = modelOf({ L: 12, d: 768, T: 128, V: 50257 });
    const seqs = sequences(quick ? 4 : 16, 128, 50257, 5);
    const value = await projectionRate(rt, params, seqs, "kronecker", 6144, "mlp", 1);
    return [{
      name: "GPT-2-124M Kronecker projection, mlp, k=6144, T=128",
      unit: "examples/s",
      value,
      baselineName: null,
      baseline: null,
      speedup: null,
    }];
  },
};
