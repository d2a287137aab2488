// Projected per-example gradients on a tiny model's real gradients: the dense projection equals
// the float64 projection of the exact gradient and approximates its dot products better as k
// grows (Johnson–Lindenstrauss), the Kronecker projection equals P_outᵀ·DW·P_in of the explicit
// gradient matrices, and a seed fixes the projection.
import assert from "node:assert/strict";
import { Gpt2Model } from "../../src/gpt2/model.ts";
import type { ParamSet } from "../../src/gpt2/params.ts";
import { summedLoss } from "../../src/gpt2/taps.ts";
import { gradientMatrixFromParams } from "../../src/influence/modules.ts";
import { type Sequence, sequenceBatches } from "../../src/influence/sequences.ts";
import { projectGradients } from "../../src/projection/engine.ts";
import { moduleSeed } from "../../src/projection/hash.ts";
import { denseParameters, kroneckerLayers } from "../../src/projection/math.ts";
import { hashProjectReference } from "../../src/projection/reference/dense.ts";
import { projectGradientMatrixReference } from "../../src/projection/reference/kronecker.ts";
import { assertClose } from "../../src/gpu/reference/compare.ts";
import { seededNormal } from "../../src/random.ts";
import { gpuTest, testRuntime } from "../helpers/gpu.ts";
import { spreadParams, tinyConfig } from "../helpers/model_fixtures.ts";

const EPS = 2 ** -24;
const config = tinyConfig();
const params: ParamSet = spreadParams(config, 3, 0.2);

function sequences(n: number): Sequence[] {
  const normal = seededNormal(11);
  return Array.from({ length: n }, (_, i) => {
    const length = 3 + (i * 5) % 7;
    const tokens = Array.from({ length }, () => Math.abs(Math.floor(normal() * 100)) % 37);
    const lossMask = tokens.map((_, t) => (t >= 1 + (i % 2) ? 1 : 0));
    return { id: `s${i}`, tokens, lossMask };
  });
}

/** Each sequence's exact gradient (batch of one), as the named parameters' gradients. */
async function exactGradients(seqs: readonly Sequence[]): Promise<Map<string, Float32Array>[]> {
  const rt = await testRuntime();
  const model = Gpt2Model.create(rt, params);
  try {
    const out: Map<string, Float32Array>[] = [];
    for (const sb of sequenceBatches(seqs, 1)) {
      await model.backward(sb.batch, summedLoss(), {}, { parameterGradients: true });
      out.push(await model.readGrads());
    }
    return out;
  } finally {
    model.dispose();
  }
}

function flatGradient(grads: Map<string, Float32Array>, selection: "all" | "linear") {
  const parts = denseParameters(config, selection);
  const g = new Float64Array(parts.reduce((n, p) => n + p.size, 0));
  let at = 0;
  for (const { name, size } of parts) {
    g.set(grads.get(name)!.subarray(0, size), at);
    at += size;
  }
  return g;
}

const dotOf = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
};

Deno.test(
  "projection: dense φ = Pᵀg of the exact gradients; JL error shrinks with k",
  gpuTest,
  async () => {
    const rt = await testRuntime();
    const seqs = sequences(7);
    const exact = (await exactGradients(seqs)).map((g) => flatGradient(g, "all"));
    const p = exact[0].length;
    assert.equal(p, denseParameters(config, "all").reduce((n, x) => n + x.size, 0));
    const norms = exact.map((g) => Math.sqrt(dotOf(g, g)));
    const errors: number[] = [];
    for (const k of [16, 256, 4096]) {
      const phi = await projectGradients({
        runtime: rt,
        params,
        sequences: seqs,
        projection: { kind: "dense", dim: k, seed: 5 },
        parameters: "all",
        batchSize: 3,
      });
      // Exactly the float64 projection of the exact gradient (up to f32 summation).
      exact.forEach((g, n) => {
        const want = hashProjectReference(g, 1, p, k, 5, 1 / Math.sqrt(k));
        let l1 = 0;
        for (const v of g) l1 += Math.abs(v);
        assertClose(phi.subarray(n * k, (n + 1) * k), want, {
          rel: (p + 16) * EPS,
          scale: new Float64Array(k).fill(l1 / Math.sqrt(k) + Math.abs(want[0])),
        }, `k=${k} sequence ${n}`);
      });
      // Mean error of the projected dot products, relative to |g_i||g_j|.
      let sum = 0, pairs = 0;
      for (let i = 0; i < seqs.length; i++) {
        for (let j = i; j < seqs.length; j++) {
          const approx = dotOf(phi.subarray(i * k, (i + 1) * k), phi.subarray(j * k, (j + 1) * k));
          sum += Math.abs(approx - dotOf(exact[i], exact[j])) / (norms[i] * norms[j]);
          pairs++;
        }
      }
      errors.push(sum / pairs);
    }
    // E|error| ≈ 0.8·√((1 + ρ²)/k) ≤ 1.2/√k; allow twice that, and demand the decrease.
    [16, 256, 4096].forEach((k, i) => {
      assert.ok(errors[i] < 2.4 / Math.sqrt(k), `k=${k}: mean error ${errors[i]}`);
    });
    assert.ok(errors[0] > errors[1] && errors[1] > errors[2], `errors ${errors.join(", ")}`);
    assert.ok(errors[2] < 0.04, `k=4096: mean error ${errors[2]}`);
  },
);

Deno.test(
  "projection: Kronecker φ_ℓ = P_outᵀ·DW·P_in of the explicit gradient matrices",
  gpuTest,
  async () => {
    const rt = await testRuntime();
    const seqs = sequences(5);
    const exact = await exactGradients(seqs);
    const dim = 8 * 12; // "linear": 8 layers of 3×4 or 4×3 columns
    const layers = kroneckerLayers(config, "linear", dim);
    assert.deepEqual(layers.map((l) => l.ko * l.ki), new Array(8).fill(12));
    const phi = await projectGradients({
      runtime: rt,
      params,
      sequences: seqs,
      projection: { kind: "kronecker", dim, seed: 9 },
      parameters: "linear",
      batchSize: 3, // two batches, padded rows included
    });
    exact.forEach((grads, n) => {
      for (const layer of layers) {
        const { module, ko, ki } = layer;
        const dw = gradientMatrixFromParams(
          module,
          grads.get(`${module.name}.weight`)!,
          grads.get(`${module.name}.bias`)!,
        );
        const want = projectGradientMatrixReference(dw, module.dOut, module.cols, {
          seedIn: moduleSeed(9, layer.linearIndex, 0),
          seedOut: moduleSeed(9, layer.linearIndex, 1),
          ko,
          ki,
        });
        let l1 = 0;
        for (const v of dw) l1 += Math.abs(v);
        const got = phi.subarray(n * dim + layer.offset, n * dim + layer.offset + ko * ki);
        // The taps' f32 products and sums against the parameter gradients': relative 1e-5 of
        // Σ|DW|/√k, the largest an entry can be.
        assertClose(got, want, {
          rel: 1e-5,
          scale: new Float64Array(ko * ki).fill(l1 / Math.sqrt(ko * ki)),
        }, `${module.name} of sequence ${n}`);
        assert.ok(want.some((v) => Math.abs(v) > 1e-3 * l1 / Math.sqrt(ko * ki)), "all zero");
      }
    });
  },
);

Deno.test(
  "projection: the same seed gives the same projection, another seed another",
  gpuTest,
  async () => {
    const rt = await testRuntime();
    const seqs = sequences(3);
    for (const kind of ["dense", "kronecker"] as const) {
      const run = (seed: number) =>
        projectGradients({
          runtime: rt,
          params,
          sequences: seqs,
          projection: { kind, dim: 64, seed },
          parameters: "mlp",
        });
      const [a, b, c] = [await run(1), await run(1), await run(2)];
      assert.deepEqual(a, b, `${kind}: seed 1 twice`);
      const differing = a.filter((v, i) => Math.abs(v - c[i]) > 1e-6 * Math.abs(v)).length;
      assert.ok(differing > 0.9 * a.length, `${kind}: seeds 1 and 2 differ in ${differing}`);
    }
  },
);
