// The LayerNorm kernels (shaders/gpt2_layernorm.wgsl) against the float64 reference
// (src/gpt2/reference/layernorm.ts), on odd shapes at non-zero offsets.
import assert from "node:assert/strict";
import { assertClose } from "../../src/gpu/reference/compare.ts";
import { randomF32 } from "../../src/gpu/reference/random.ts";
import {
  layerNormBackwardInput,
  layerNormBackwardParams,
  layerNormForward,
} from "../../src/gpt2/kernels/layernorm.ts";
import { layerNorm, layerNormBackward } from "../../src/gpt2/reference/layernorm.ts";
import { kernelTest, placed, readView, upload } from "./kernel_harness.ts";

kernelTest("layer norm forward, input and parameter backward", async (rt) => {
  const [rows, d, eps] = [19, 23, 1e-5];
  // A large shared mean tests the two-pass variance.
  const x = randomF32(rows * d, 4).map((v, i) => v + (i % 5 === 0 ? 30 : 0));
  const w = randomF32(d, 5, 0.5, 1.5), b = randomF32(d, 6);
  const dy = randomF32(rows * d, 7), dres = randomF32(rows * d, 8);
  const wb = new Float32Array(2 * d + 6);
  wb.set(w, 2);
  wb.set(b, d + 4);
  const wbT = upload(rt, wb);
  const xT = placed(rt, x, [rows, d]);
  const y = placed(rt, new Float32Array(rows * d), [rows, d], 7);
  const stats = placed(rt, new Float32Array(2 * rows), [2 * rows], 1);
  await layerNormForward(
    rt,
    xT,
    wbT.view([d], undefined, 2),
    wbT.view([d], undefined, d + 4),
    eps,
    y,
    stats,
  );
  const ref = layerNorm(x, w, b, rows, d, eps);
  assertClose(await readView(rt, y), ref.y, { abs: 2e-5 }, "layer norm forward");
  const st = await readView(rt, stats);
  assertClose(st.subarray(0, rows), ref.mean, { abs: 1e-5 }, "mean");
  assertClose(st.subarray(rows), ref.rstd, { abs: 0, rel: 2e-5 }, "rstd");

  const dwRef = new Float64Array(d), dbRef = new Float64Array(d);
  const dxRef = layerNormBackward(x, w, ref, dy, rows, d, dwRef, dbRef);
  for (const residual of [false, true]) {
    const dx = placed(rt, new Float32Array(rows * d), [rows, d], 2);
    await layerNormBackwardInput(
      rt,
      xT,
      wbT.view([d], undefined, 2),
      placed(rt, dy, [rows, d], 4),
      stats,
      residual ? placed(rt, dres, [rows, d], 6) : null,
      dx,
    );
    const expected = dxRef.map((v, i) => v + (residual ? dres[i] : 0));
    assertClose(
      await readView(rt, dx),
      expected,
      { abs: 1e-4 },
      `layer norm dx (residual ${residual})`,
    );
  }
  const grads = upload(rt, new Float32Array(2 * d + 9).fill(0.25));
  await layerNormBackwardParams(
    rt,
    xT,
    placed(rt, dy, [rows, d], 4),
    stats,
    grads.view([d], undefined, 1),
    grads.view([d], undefined, d + 5),
  );
  const g = await rt.readOne(grads);
  assertClose(g.subarray(1, 1 + d), dwRef.map((v) => v + 0.25), { abs: 1e-4 }, "dw");
  assertClose(g.subarray(d + 5, 2 * d + 5), dbRef.map((v) => v + 0.25), { abs: 1e-5 }, "db");
  assert.equal(g[0], 0.25);
});
