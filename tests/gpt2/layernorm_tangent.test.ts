// LayerNorm's tangent kernels (shaders/gpt2_layernorm_tangent.wgsl): the float64 reference
// (src/gpt2/reference/layernorm_tangent.ts) against central differences of the float64 primal
// (src/gpt2/reference/layernorm.ts), then the kernels against the reference on odd shapes at
// non-zero offsets.
import assert from "node:assert/strict";
import { assertClose, maxAbs } from "../../src/gpu/reference/compare.ts";
import { randomF32 } from "../../src/gpu/reference/random.ts";
import { layerNormForward } from "../../src/gpt2/kernels/layernorm.ts";
import {
  layerNormTangentBackwardInput,
  layerNormTangentBackwardParams,
  layerNormTangentForward,
} from "../../src/gpt2/kernels/layernorm_tangent.ts";
import { layerNorm, layerNormBackward } from "../../src/gpt2/reference/layernorm.ts";
import {
  layerNormBackwardTangent,
  layerNormTangent,
} from "../../src/gpt2/reference/layernorm_tangent.ts";
import { kernelTest, placed, readView, upload } from "./kernel_harness.ts";

const EPS = 1e-5;

/** p + t·v elementwise, in float64. */
function along(p: ArrayLike<number>, v: ArrayLike<number>, t: number): Float64Array {
  return Float64Array.from(p, (pi, i) => pi + t * v[i]);
}

/** (f(+h) - f(-h)) / 2h of each output of f. */
function centralDifference(f: (t: number) => Float64Array[], h: number): Float64Array[] {
  const [plus, minus] = [f(h), f(-h)];
  return plus.map((p, k) => Float64Array.from(p, (v, i) => (v - minus[k][i]) / (2 * h)));
}

Deno.test("layer norm tangent references equal central differences of the primal (float64)", () => {
  const [rows, d, h] = [5, 7, 1e-5];
  const x = randomF32(rows * d, 31, -2, 2).map((v, i) => v + (i % 3 === 0 ? 5 : 0));
  const w = randomF32(d, 32, 0.5, 1.5), b = randomF32(d, 33);
  const dy = randomF32(rows * d, 34);
  const [xDot, wDot, bDot, dyDot] = [
    randomF32(rows * d, 35),
    randomF32(d, 36),
    randomF32(d, 37),
    randomF32(rows * d, 38),
  ];
  const cache = layerNorm(x, w, b, rows, d, EPS);

  const [yFd] = centralDifference((t) => [
    layerNorm(along(x, xDot, t), along(w, wDot, t), along(b, bDot, t), rows, d, EPS).y,
  ], h);
  const yDot = layerNormTangent(x, w, cache, xDot, wDot, bDot, rows, d);
  // Truncation h²·|f'''| and rounding 1e-16/h: both far under 1e-9 of the largest.
  assertClose(yDot, yFd, { abs: 1e-9 * maxAbs(yFd) }, "ẏ vs finite differences");

  const [dxFd, dwFd, dbFd] = centralDifference((t) => {
    const xt = along(x, xDot, t), wt = along(w, wDot, t);
    const [dw, db] = [new Float64Array(d), new Float64Array(d)];
    const dx = layerNormBackward(
      xt,
      wt,
      layerNorm(xt, wt, b, rows, d, EPS),
      along(dy, dyDot, t),
      rows,
      d,
      dw,
      db,
    );
    return [dx, dw, db];
  }, h);
  // Accumulated onto a non-zero start, as the primal's dw, db are.
  const [dwDot, dbDot] = [new Float64Array(d).fill(0.5), new Float64Array(d).fill(0.5)];
  const dxDot = layerNormBackwardTangent(
    x,
    w,
    cache,
    dy,
    xDot,
    wDot,
    dyDot,
    rows,
    d,
    dwDot,
    dbDot,
  );
  assertClose(dxDot, dxFd, { abs: 1e-9 * maxAbs(dxFd) }, "ḋx vs finite differences");
  assertClose(dwDot.map((v) => v - 0.5), dwFd, { abs: 1e-9 * maxAbs(dwFd) }, "ḋw vs fd");
  assertClose(dbDot.map((v) => v - 0.5), dbFd, { abs: 1e-9 * maxAbs(dbFd) }, "ḋb vs fd");
  // The tangents are not trivially zero: every part contributes.
  assert.ok(maxAbs(dxFd) > 0.1 && maxAbs(dwFd) > 0.1 && maxAbs(yFd) > 0.1);
});

kernelTest("layer norm tangents: forward, input and parameter backward", async (rt) => {
  const [rows, d] = [19, 23];
  // A large shared mean, as in the primal's test (tests/gpt2/layernorm.test.ts).
  const x = randomF32(rows * d, 4).map((v, i) => v + (i % 5 === 0 ? 30 : 0));
  const w = randomF32(d, 5, 0.5, 1.5), b = randomF32(d, 6);
  const dy = randomF32(rows * d, 7), dresDot = randomF32(rows * d, 8);
  const xDot = randomF32(rows * d, 9), dyDot = randomF32(rows * d, 10);
  const wDot = randomF32(d, 11), bDot = randomF32(d, 12);

  // w and b in one parameter buffer, their tangents in another, at different offsets.
  const wb = new Float32Array(2 * d + 6);
  wb.set(w, 2);
  wb.set(b, d + 4);
  const wbT = upload(rt, wb);
  const wT = wbT.view([d], undefined, 2);
  const wbDot = new Float32Array(2 * d + 9);
  wbDot.set(wDot, 5);
  wbDot.set(bDot, d + 7);
  const wbDotT = upload(rt, wbDot);
  const wDotT = wbDotT.view([d], undefined, 5);
  const bDotT = wbDotT.view([d], undefined, d + 7);

  const xT = placed(rt, x, [rows, d]);
  const stats = placed(rt, new Float32Array(2 * rows), [2 * rows], 1);
  await layerNormForward(
    rt,
    xT,
    wT,
    wbT.view([d], undefined, d + 4),
    EPS,
    placed(rt, new Float32Array(rows * d), [rows, d], 7),
    stats,
  );
  const cache = layerNorm(x, w, b, rows, d, EPS);
  const xDotT = placed(rt, xDot, [rows, d], 4);
  const dyT = placed(rt, dy, [rows, d], 6);
  const dyDotT = placed(rt, dyDot, [rows, d], 8);

  const yDot = placed(rt, new Float32Array(rows * d), [rows, d], 2);
  await layerNormTangentForward(rt, xT, wT, stats, xDotT, wDotT, bDotT, yDot);
  const yDotRef = layerNormTangent(x, w, cache, xDot, wDot, bDot, rows, d);
  // f32 rounding over rows of d terms (and the f32 stats): about 1e-6 of the largest value.
  const tol = (expected: ArrayLike<number>) => ({ abs: 1e-5 * maxAbs(expected) });
  assertClose(await readView(rt, yDot), yDotRef, tol(yDotRef), "ẏ");

  const [dwDotRef, dbDotRef] = [new Float64Array(d), new Float64Array(d)];
  const dxDotRef = layerNormBackwardTangent(
    x,
    w,
    cache,
    dy,
    xDot,
    wDot,
    dyDot,
    rows,
    d,
    dwDotRef,
    dbDotRef,
  );
  for (const residual of [false, true]) {
    const dxDot = placed(rt, new Float32Array(rows * d), [rows, d], 5);
    await layerNormTangentBackwardInput(
      rt,
      xT,
      wT,
      stats,
      dyT,
      xDotT,
      wDotT,
      dyDotT,
      residual ? placed(rt, dresDot, [rows, d], 9) : null,
      dxDot,
    );
    const expected = dxDotRef.map((v, i) => v + (residual ? dresDot[i] : 0));
    assertClose(await readView(rt, dxDot), expected, tol(expected), `ḋx (residual ${residual})`);
  }

  // The parameter tangents accumulate onto what the buffer holds. A first call on the first 7
  // rows makes the row scratch; the second, on all rows, must grow it.
  const few = 7;
  const [dwFew, dbFew] = [new Float64Array(d), new Float64Array(d)];
  layerNormBackwardTangent(x, w, cache, dy, xDot, wDot, dyDot, few, d, dwFew, dbFew);
  // stats of the first rows alone: [mean | rstd] of those rows.
  const st = await readView(rt, stats);
  const fewStats = new Float32Array(2 * few);
  fewStats.set(st.subarray(0, few));
  fewStats.set(st.subarray(rows, rows + few), few);
  const statsOf = { [few]: placed(rt, fewStats, [2 * few], 2), [rows]: stats };
  for (const n of [few, rows]) {
    const grads = upload(rt, new Float32Array(2 * d + 9).fill(0.25));
    await layerNormTangentBackwardParams(
      rt,
      xT.view([n, d]),
      statsOf[n],
      dyT.view([n, d]),
      xDotT.view([n, d]),
      dyDotT.view([n, d]),
      grads.view([d], undefined, 1),
      grads.view([d], undefined, d + 5),
    );
    const g = await rt.readOne(grads);
    const [dwExpected, dbExpected] = n === rows ? [dwDotRef, dbDotRef] : [dwFew, dbFew];
    const [dwAfter, dbAfter] = [dwExpected, dbExpected].map((e) => e.map((v) => v + 0.25));
    assertClose(g.subarray(1, 1 + d), dwAfter, tol(dwAfter), `ḋw ${n}`);
    assertClose(g.subarray(d + 5, 2 * d + 5), dbAfter, tol(dbAfter), `ḋb ${n}`);
    assert.equal(g[0], 0.25);
    assert.equal(g[2 * d + 8], 0.25);
  }
});
