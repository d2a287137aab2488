// TracIn-CP on the GPU against the float64 reference (exact per-example gradients from the
// reference GPT-2) on a tiny model with three checkpoints of different learning rates, odd
// sequence lengths and prompt tokens that are not labels; "mlp" equals Σ_c η_c × identity
// influence scores.
import assert from "node:assert/strict";
import { parseGpt2Config } from "../../src/gpt2/config.ts";
import { initParams, type ParamSet } from "../../src/gpt2/params.ts";
import { factorSetFrom } from "../../src/influence/factors/factor_set.ts";
import { trackedModules } from "../../src/influence/modules.ts";
import { computeScores } from "../../src/influence/scores/engine.ts";
import type { Sequence } from "../../src/influence/sequences.ts";
import {
  computeTracin,
  type TracinParameters,
  trainingPasses as passesPlanned,
} from "../../src/tracin/engine.ts";
import { referenceTracin } from "../../src/tracin/reference/tracin.ts";
import { seededUniform } from "../../src/random.ts";
import { gpuTest, testRuntime } from "../helpers/gpu.ts";
import { prepareBatch } from "../../src/gpt2/batch.ts";
import { referenceBackward, referenceForward, toParams64 } from "../../src/gpt2/reference/model.ts";
import { projectGradients } from "../../src/projection/engine.ts";
import { denseParameters } from "../../src/projection/math.ts";
import { hashProjectReference } from "../../src/projection/reference/dense.ts";
import { buildBatch } from "../../src/training/encode.ts";
import { relativeError } from "../helpers/score_agreement.ts";

const CONFIG = parseGpt2Config({
  vocab_size: 37,
  n_positions: 16,
  n_embd: 12,
  n_layer: 2,
  n_head: 2,
});

// f32 GPU gradients and dot products against float64: the largest error as a fraction of the
// largest |score|: measured 1.7e-7 ("all") to 3.3e-7 ("mlp", "linear"); 1e-5 as in the influence
// pipeline test.
const TOLERANCE = 1e-5;

function sequences(prefix: string, lengths: number[], seed: number): Sequence[] {
  const random = seededUniform(seed);
  return lengths.map((n, i) => {
    const tokens = Array.from({ length: n }, () => Math.floor(random() * CONFIG.vocab_size));
    // The first two tokens are a prompt (not labels) in every other sequence.
    const lossMask = tokens.map((_, t) => (i % 2 === 1 && t < 2 ? 0 : 1));
    return { id: `${prefix}${i}`, tokens, lossMask };
  });
}

const TRAIN = sequences("m", [5, 7, 3, 9, 6], 11);
const QUERIES = sequences("q", [4, 7, 5], 12);
const CHECKPOINTS: { step: number; lr: number; params: ParamSet }[] = [
  { step: 2, lr: 0.03, params: initParams(CONFIG, 1) },
  { step: 4, lr: 0.011, params: initParams(CONFIG, 2) },
  { step: 6, lr: 0.005, params: initParams(CONFIG, 3) },
];

async function gpuTracin(parameters: TracinParameters) {
  return await computeTracin({
    runtime: await testRuntime(),
    checkpoints: CHECKPOINTS.map((c) => ({ ...c, params: () => Promise.resolve(c.params) })),
    parameters,
    train: TRAIN,
    queries: QUERIES,
    batchSize: 2,
  });
}

for (const parameters of ["all", "mlp", "linear"] as const) {
  Deno.test(`tracin "${parameters}" matches the float64 reference`, gpuTest, async () => {
    const got = await gpuTracin(parameters);
    const want = referenceTracin(CHECKPOINTS, parameters, TRAIN, QUERIES);
    assert.deepEqual([...got.modules].sort(), [...want.modules].sort());
    if (parameters === "all") {
      assert.equal(got.modules.length, 2 + 6 * CONFIG.n_layer + 1);
      assert.ok(got.modules.includes("wte") && got.modules.includes("h.1.ln_2"));
    }
    const err = relativeError(got.total, want.total);
    console.log(`tracin ${parameters}: total error ${err.toExponential(2)} of the largest score`);
    assert.ok(err <= TOLERANCE, `total: error ${err}`);
    for (const [i, name] of got.modules.entries()) {
      const j = want.modules.indexOf(name);
      const e = relativeError(got.perModule[i], want.perModule[j]);
      assert.ok(e <= TOLERANCE, `${name}: error ${e}`);
    }
    // Per-module terms sum to the score.
    const sum = new Float64Array(got.total.length);
    for (const t of got.perModule) t.forEach((v, j) => (sum[j] += v));
    assert.ok(relativeError(sum, got.total) <= 1e-6);
    // The scores are not trivially zero or constant.
    assert.ok(new Set(Array.from(want.total, (v) => v.toPrecision(4))).size > 5);
  });
}

Deno.test("tracin on a single checkpoint is lr × the gradient dot product", gpuTest, async () => {
  const one = [CHECKPOINTS[1]];
  const got = await computeTracin({
    runtime: await testRuntime(),
    checkpoints: one.map((c) => ({ ...c, params: () => Promise.resolve(c.params) })),
    parameters: "all",
    train: TRAIN,
    queries: QUERIES,
  });
  const unit = referenceTracin([{ lr: 1, params: one[0].params }], "all", TRAIN, QUERIES);
  const scaled = unit.total.map((v) => v * one[0].lr);
  assert.ok(relativeError(got.total, scaled) <= TOLERANCE);
});

Deno.test(
  'tracin "all": query gradients in chunks of rows, or queries in groups, give the same scores',
  gpuTest,
  async () => {
    // 300 elements: wte (37 × 12 = 444) and the 12 × 36 c_attn weight hold one query per chunk,
    // wpe (16 × 12 = 192) one, the biases and LayerNorms all three queries.
    const chunked = await computeTracin({
      runtime: await testRuntime(),
      checkpoints: CHECKPOINTS.map((c) => ({ ...c, params: () => Promise.resolve(c.params) })),
      parameters: "all",
      train: TRAIN,
      queries: QUERIES,
      maxBindingElements: 300,
    });
    const want = referenceTracin(CHECKPOINTS, "all", TRAIN, QUERIES);
    const err = relativeError(chunked.total, want.total);
    assert.ok(err <= TOLERANCE, `error ${err}`);
    // And queries in groups: a budget of two queries' gradients (of 3) streams training twice.
    const P = [...CHECKPOINTS[0].params.values.values()].reduce((n, v) => n + v.length, 0);
    let trainingPasses = 0;
    const grouped = await computeTracin({
      runtime: await testRuntime(),
      checkpoints: CHECKPOINTS.map((c) => ({ ...c, params: () => Promise.resolve(c.params) })),
      parameters: "all",
      train: TRAIN,
      queries: QUERIES,
      queryBudgetElements: 2 * P,
      onProgress: (p) => {
        if (p.phase === "training" && p.done === TRAIN.length) trainingPasses++;
      },
    });
    assert.equal(trainingPasses, 2 * CHECKPOINTS.length);
    assert.equal(passesPlanned(CONFIG, "all", QUERIES.length, 2 * P), 2);
    assert.equal(passesPlanned(CONFIG, "all", QUERIES.length), 1);
    assert.equal(passesPlanned(CONFIG, "mlp", QUERIES.length, 1), 1);
    const errGrouped = relativeError(grouped.total, want.total);
    assert.ok(errGrouped <= TOLERANCE, `grouped: error ${errGrouped}`);
  },
);

Deno.test('tracin "mlp" is Σ_c η_c × identity influence scores', gpuTest, async () => {
  const runtime = await testRuntime();
  const got = await gpuTracin("mlp");
  const modules = trackedModules(CONFIG, "mlp");
  const want = new Float64Array(QUERIES.length * TRAIN.length);
  for (const c of CHECKPOINTS) {
    const scores = await computeScores({
      runtime,
      params: c.params,
      factors: factorSetFrom("identity", modules, { positions: 0, sequences: 0 }, () => null),
      train: TRAIN,
      queries: QUERIES,
    });
    scores.total.forEach((v, j) => (want[j] += c.lr * v));
  }
  const err = relativeError(got.total, want);
  assert.ok(err <= 1e-6, `error ${err}`);
});

/** A sequence's exact float64 gradient of its summed loss, over `names` concatenated. */
function flatGradient(params: ParamSet, sequence: Sequence, names: string[]): Float64Array {
  const p64 = toParams64(params);
  const prepared = prepareBatch(buildBatch([sequence]), params.config);
  const fwd = referenceForward(p64, params.config, prepared);
  const weights = prepared.exampleWeights.map((w) => (w > 0 ? 1 : 0));
  const grads = referenceBackward(p64, params.config, prepared, fwd, weights);
  const parts = names.map((n) => grads.get(n)!);
  const out = new Float64Array(parts.reduce((k, a) => k + a.length, 0));
  let at = 0;
  for (const a of parts) (out.set(a, at), (at += a.length));
  return out;
}

Deno.test(
  'tracin with a dense projection of "all" matches float64 projected gradients',
  gpuTest,
  async () => {
    const projection = { kind: "dense" as const, dim: 50, seed: 7 };
    const got = await computeTracin({
      runtime: await testRuntime(),
      checkpoints: CHECKPOINTS.map((c) => ({ ...c, params: () => Promise.resolve(c.params) })),
      parameters: "all",
      train: TRAIN,
      queries: QUERIES,
      projection,
      projectionChunk: 2, // three passes over the five training examples
    });
    assert.deepEqual(got.modules, ["projection"]);
    const names = denseParameters(CONFIG, "all").map((p) => p.name);
    const k = projection.dim;
    const phi = (params: ParamSet, s: Sequence) => {
      const g = flatGradient(params, s, names);
      return hashProjectReference(g, 1, g.length, k, projection.seed, 1 / Math.sqrt(k));
    };
    const want = new Float64Array(QUERIES.length * TRAIN.length);
    for (const c of CHECKPOINTS) {
      const pq = QUERIES.map((s) => phi(c.params, s));
      const pm = TRAIN.map((s) => phi(c.params, s));
      pq.forEach((a, q) =>
        pm.forEach((b, m) => {
          let dot = 0;
          for (let j = 0; j < k; j++) dot += a[j] * b[j];
          want[q * TRAIN.length + m] += c.lr * dot;
        })
      );
    }
    const err = relativeError(got.total, want);
    console.log(`tracin dense projection: error ${err.toExponential(2)} of the largest score`);
    assert.ok(err <= TOLERANCE, `error ${err}`);
    // A projection approximates the exact scores, it does not reproduce them.
    const exact = referenceTracin(CHECKPOINTS, "all", TRAIN, QUERIES).total;
    assert.ok(relativeError(got.total, exact) > 1e-3);
  },
);

Deno.test(
  "tracin with a Kronecker projection is Σ_c η_c ⟨φ_q, φ_m⟩ of the projected gradients",
  gpuTest,
  async () => {
    const runtime = await testRuntime();
    const projection = { kind: "kronecker" as const, dim: 16, seed: 3 };
    const got = await computeTracin({
      runtime,
      checkpoints: CHECKPOINTS.map((c) => ({ ...c, params: () => Promise.resolve(c.params) })),
      parameters: "mlp",
      train: TRAIN,
      queries: QUERIES,
      projection,
      batchSize: 2,
    });
    const want = new Float64Array(QUERIES.length * TRAIN.length);
    const k = projection.dim;
    for (const c of CHECKPOINTS) {
      const project = (sequences: Sequence[]) =>
        projectGradients({ runtime, params: c.params, sequences, projection, parameters: "mlp" });
      const pq = await project(QUERIES);
      const pm = await project(TRAIN);
      for (let q = 0; q < QUERIES.length; q++) {
        for (let m = 0; m < TRAIN.length; m++) {
          let dot = 0;
          for (let j = 0; j < k; j++) dot += pq[q * k + j] * pm[m * k + j];
          want[q * TRAIN.length + m] += c.lr * dot;
        }
      }
    }
    const err = relativeError(got.total, want);
    assert.ok(err <= TOLERANCE, `error ${err}`);
  },
);
