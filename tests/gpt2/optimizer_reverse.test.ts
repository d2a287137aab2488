// The AdamW reverse step: (a) its float64 reference is the exact vector–Jacobian product of the
// float64 forward step, by central differences along random directions; (b) the WGSL kernels
// (shaders/gpt2_optimizer_reverse.wgsl) against that reference on two odd-sized segments at
// non-zero offsets, with clipping active, inactive and off.
import assert from "node:assert/strict";
import { assertClose } from "../../src/gpu/reference/compare.ts";
import { randomF32 } from "../../src/gpu/reference/random.ts";
import {
  adamwReverse,
  type AdamwReverseRange,
  sgdReverse,
  type SgdReverseRange,
} from "../../src/gpt2/kernels/optimizer_reverse.ts";
import {
  type AdamwCotangent64,
  adamwForward64,
  adamwReverse64,
  type AdamwSegment64,
  type AdamwStepHyper64,
  sgdForward64,
  sgdReverse64,
  type SgdStepHyper64,
} from "../../src/gpt2/reference/optimizer_reverse.ts";
import { kernelTest, placed, readView, upload } from "./kernel_harness.ts";

const f64 = (x: ArrayLike<number>) => Float64Array.from(x);

interface Segment extends AdamwSegment64 {
  theta: Float64Array;
  m: Float64Array;
  v: Float64Array;
  g: Float64Array;
}

function segment(n: number, decayEnd: number, seed: number, vLo = 0.05): Segment {
  return {
    theta: f64(randomF32(n, seed)),
    m: f64(randomF32(n, seed + 1, -0.3, 0.3)),
    v: f64(randomF32(n, seed + 2, vLo, 0.5)),
    g: f64(randomF32(n, seed + 3)),
    decayEnd,
  };
}

function cotangent(n: number, seed: number): AdamwCotangent64 {
  return {
    thetaBar: f64(randomF32(n, seed)),
    mBar: f64(randomF32(n, seed + 1)),
    vBar: f64(randomF32(n, seed + 2)),
  };
}

const norm = (segs: readonly Segment[]) =>
  Math.sqrt(segs.reduce((sq, s) => sq + s.g.reduce((a, x) => a + x * x, 0), 0));

type Field = "theta" | "m" | "v" | "g";
const FIELDS: Field[] = ["theta", "m", "v", "g"];

/** ⟨cotangents, state after the step⟩ at segments + h·direction. */
function probe(
  segs: readonly Segment[],
  dir: readonly Segment[],
  h: number,
  bars: readonly AdamwCotangent64[],
  hp: AdamwStepHyper64,
): number {
  const moved = segs.map((s, k) => {
    const out = { ...s };
    for (const f of FIELDS) out[f] = Float64Array.from(s[f], (x, i) => x + h * dir[k][f][i]);
    return out;
  });
  let sum = 0;
  for (const [k, st] of adamwForward64(moved, hp).entries()) {
    for (let i = 0; i < st.theta.length; i++) {
      sum += bars[k].thetaBar[i] * st.theta[i] + bars[k].mBar[i] * st.m[i] +
        bars[k].vBar[i] * st.v[i];
    }
  }
  return sum;
}

/** Central difference with one Richardson step: error O(h⁴). */
function directional(f: (h: number) => number, h: number): number {
  const d = (s: number) => (f(s) - f(-s)) / (2 * s);
  return (4 * d(h / 2) - d(h)) / 3;
}

const BASE: Omit<AdamwStepHyper64, "maxNorm" | "epsRoot"> = {
  lr: 0.03,
  beta1: 0.8,
  beta2: 0.95,
  eps: 1e-6,
  weightDecay: 0.2,
  step: 3,
};

Deno.test("AdamW reverse (float64) is the exact VJP of the forward step", () => {
  const segs = [segment(17, 9, 100), segment(11, 4, 200)];
  // Elements with tiny second moments, where v̂ + epsRoot is near 0 and the step is stiffest.
  segs[1].v[2] = 1e-4, segs[1].m[2] = 1e-3, segs[1].g[2] = 2e-3;
  const bars = [cotangent(17, 300), cotangent(11, 400)];
  const n0 = norm(segs);
  let checked = 0;
  for (const epsRoot of [0, 1e-3]) {
    for (const maxNorm of [0, n0 / 3, 10 * n0]) {
      const hp: AdamwStepHyper64 = { ...BASE, epsRoot, maxNorm };
      const rev = adamwReverse64(segs, bars, hp);
      const barOf: Record<Field, (k: number) => Float64Array> = {
        theta: (k) => rev[k].thetaBar,
        m: (k) => rev[k].mBar,
        v: (k) => rev[k].vBar,
        g: (k) => rev[k].gBar,
      };
      // Each input on its own (so no error hides behind another), then all at once.
      for (const only of [...FIELDS, "all"] as const) {
        const dir = segs.map((s, k) => {
          const d = { ...s };
          for (const [j, f] of FIELDS.entries()) {
            const random = randomF32(s.theta.length, 1000 * k + 10 * j + 7);
            // δv relative to v, so that v + h·δv stays positive where v is tiny.
            const step = f === "v" ? random.map((x, i) => x * s.v[i]) : random;
            d[f] = only === "all" || only === f ? f64(step) : new Float64Array(s.theta.length);
          }
          return d;
        });
        let analytic = 0, scale = 0;
        for (const [k, d] of dir.entries()) {
          for (const f of FIELDS) {
            const bar = barOf[f](k);
            for (let i = 0; i < bar.length; i++) {
              analytic += bar[i] * d[f][i];
              scale += Math.abs(bar[i] * d[f][i]);
            }
          }
        }
        const numeric = directional((h) => probe(segs, dir, h, bars, hp), 1e-3);
        const what = `epsRoot ${epsRoot}, maxNorm ${maxNorm.toFixed(3)}, direction ${only}`;
        assert.ok(scale > 1e-3, `${what}: a direction the step does not feel`);
        assert.ok(
          Math.abs(numeric - analytic) <= 1e-8 * scale,
          `${what}: finite difference ${numeric}, reverse ${analytic} (scale ${scale})`,
        );
        checked++;
      }
    }
  }
  assert.equal(checked, 30);
});

Deno.test("AdamW reverse (float64): clipping's Jacobian matters and weight decay splits at decayEnd", () => {
  const segs = [segment(13, 6, 500)];
  const bars = [cotangent(13, 600)];
  const n0 = norm(segs);
  const hp = { ...BASE, epsRoot: 0, maxNorm: n0 / 2 };
  const clipped = adamwReverse64(segs, bars, hp)[0];
  // Dropping the norm's derivative (g̃ = coef·g with coef held fixed) gives a different ḡ.
  const fixedCoef = adamwReverse64(
    [{ ...segs[0], g: segs[0].g.map((x) => x * (hp.maxNorm / (n0 + 1e-6))) }],
    bars,
    { ...hp, maxNorm: 0 },
  )[0];
  const naive = fixedCoef.gBar.map((x) => x * (hp.maxNorm / (n0 + 1e-6)));
  const gap = clipped.gBar.reduce((w, x, i) => Math.max(w, Math.abs(x - naive[i])), 0);
  assert.ok(gap > 1e-3, `clipping's norm derivative changed ḡ by only ${gap}`);
  // θ̄ = θ̄'·(1 − ηλ) on decayed elements, θ̄' elsewhere.
  clipped.thetaBar.forEach((x, i) => {
    const expected = bars[0].thetaBar[i] * (i < 6 ? 1 - BASE.lr * BASE.weightDecay : 1);
    assert.equal(x, expected, `thetaBar[${i}]`);
  });
  // s = 0 (v' = 0 with epsRoot 0, so g̃ = m = 0): finite, V = v̄'.
  const zero = { theta: [0.5], m: [0], v: [0], g: [0], decayEnd: 1 };
  const bar = { thetaBar: f64([1]), mBar: f64([0.25]), vBar: f64([0.5]) };
  const at0 = adamwReverse64([zero], [bar], { ...hp, maxNorm: 0 })[0];
  assert.ok([at0.thetaBar, at0.mBar, at0.vBar, at0.gBar].every((a) => Number.isFinite(a[0])));
  assert.equal(at0.vBar[0], BASE.beta2 * 0.5);
});

interface GpuCase {
  epsRoot: number;
  /** As a multiple of the gradient's norm; 0: off. */
  clip: number;
}

kernelTest(
  "AdamW reverse kernels match the float64 reference (two segments, offsets)",
  async (rt) => {
    const sizes = [37, 23], decayEnds = [20, 0], offsets = [3, 7];
    const segs = sizes.map((n, k) => segment(n, decayEnds[k], 700 + 10 * k, 1e-3));
    const bars = sizes.map((n, k) => cotangent(n, 900 + 10 * k));
    // The GPU reads normSq rounded to f32; the reference takes the norm of the same gradients.
    const n0 = norm(segs);
    const cases: GpuCase[] = [
      { epsRoot: 0, clip: 1 / 3 },
      { epsRoot: 1e-4, clip: 1 / 3 },
      { epsRoot: 1e-4, clip: 0 },
      { epsRoot: 0, clip: 10 },
    ];
    for (const c of cases) {
      const hp = { ...BASE, epsRoot: c.epsRoot, maxNorm: c.clip * n0 };
      const expected = adamwReverse64(segs, bars, hp);
      const ranges = adamwRanges(rt, segs, bars, hp.maxNorm, offsets);
      await adamwReverse(rt, ranges, { ...BASE, epsRoot: c.epsRoot });
      const what = `epsRoot ${c.epsRoot}, clip ${c.clip}`;
      for (const [k, r] of ranges.entries()) {
        const e = expected[k];
        // Chains of ~15 f32 operations: 2e-6 of each output (measured: 2.5e-7 of the largest).
        const outputs = [
          ["thetaBar", r.thetaBar, e.thetaBar],
          ["mBar", r.mBar, e.mBar],
          ["vBar", r.vBar, e.vBar],
          ["gBar", r.gBar, e.gBar],
        ] as const;
        for (const [name, t, ref] of outputs) {
          const got = await readView(rt, t);
          const largest = ref.reduce((a, x) => Math.max(a, Math.abs(x)), 0);
          assertClose(
            got,
            ref,
            { rel: 2e-6, abs: 2e-6 * largest },
            `${what}, segment ${k} ${name}`,
          );
        }
        // Nothing outside the segment is written.
        const whole = await rt.readOne(r.gBar.view([r.gBar.buffer.size / 4], undefined, 0));
        assert.ok(
          whole.every((x, i) => (i >= r.gBar.offset && i < r.gBar.offset + sizes[k]) || x === 0),
          `${what}: gBar written outside segment ${k}`,
        );
      }
    }
  },
);

/** The AdamW ranges of `segs` on the GPU, each tensor at element offset `offsets[k]`. */
function adamwRanges(
  rt: Parameters<typeof adamwReverse>[0],
  segs: readonly Segment[],
  bars: readonly AdamwCotangent64[],
  maxNorm: number,
  offsets: readonly number[],
): AdamwReverseRange[] {
  let sq = 0;
  for (const s of segs) for (const x of s.g) sq += x * x;
  const normSq = upload(rt, [sq]);
  const gDot = placed(rt, new Float32Array(1), [1], 2);
  return segs.map((s, k) => {
    const n = s.theta.length;
    const put = (x: ArrayLike<number>) => placed(rt, Float32Array.from(x), [n], offsets[k]);
    return {
      params: put(s.theta),
      grads: put(s.g),
      m: put(s.m),
      v: put(s.v),
      normSq,
      decayEnd: s.decayEnd,
      maxNorm,
      thetaBar: put(bars[k].thetaBar),
      mBar: put(bars[k].mBar),
      vBar: put(bars[k].vBar),
      gBar: put(new Float32Array(n)),
      gDotGBarTilde: gDot,
    };
  });
}

kernelTest(
  "AdamW reverse is deterministic over three segments, and checks its inputs",
  async (rt) => {
    const sizes = [45, 3, 70];
    const segs = sizes.map((n, k) => segment(n, k === 1 ? 3 : 10, 1100 + 10 * k, 1e-3));
    const bars = sizes.map((n, k) => cotangent(n, 1200 + 10 * k));
    const maxNorm = norm(segs) / 4;
    const hp = { ...BASE, epsRoot: 1e-6 };
    const outputs = async () => {
      const ranges = adamwRanges(rt, segs, bars, maxNorm, [1, 4, 9]);
      await adamwReverse(rt, ranges, hp);
      return await Promise.all(
        ranges.flatMap((r) => [r.thetaBar, r.mBar, r.vBar, r.gBar]).map((t) => readView(rt, t)),
      );
    };
    const first = await outputs(), second = await outputs();
    first.forEach((x, i) => assert.deepEqual(second[i], x, `output ${i} differs between runs`));
    const expected = adamwReverse64(segs, bars, { ...hp, maxNorm });
    for (const [k, e] of expected.entries()) {
      const largest = e.gBar.reduce((a, x) => Math.max(a, Math.abs(x)), 0);
      assertClose(first[4 * k + 3], e.gBar, { rel: 2e-6, abs: 2e-6 * largest }, `gBar ${k}`);
    }

    const [r] = adamwRanges(rt, segs.slice(0, 1), bars.slice(0, 1), maxNorm, [0]);
    await assert.rejects(
      adamwReverse(rt, [{ ...r, mBar: upload(rt, new Float32Array(sizes[0] + 1)) }], hp),
      /mBar \[46\] must be contiguous with 45 elements/,
    );
    await assert.rejects(
      adamwReverse(rt, [{ ...r, gBar: r.grads }], hp),
      /grads must not share a buffer with a cotangent/,
    );
    await assert.rejects(adamwReverse(rt, [r], { ...hp, step: 0 }), /step 0/);
  },
);

interface SgdSegment extends Segment {
  buf: Float64Array;
}

function sgdSegment(n: number, decayEnd: number, seed: number): SgdSegment {
  return { ...segment(n, decayEnd, seed), buf: f64(randomF32(n, seed + 5, -0.5, 0.5)) };
}

const SGD = { lr: 0.1, momentum: 0.7, weightDecay: 0.2 };

Deno.test("SGD reverse (float64) is the exact VJP of the forward step", () => {
  const segs = [sgdSegment(15, 7, 1300), sgdSegment(8, 0, 1400)];
  const bars = segs.map((s, k) => ({
    thetaBar: f64(randomF32(s.theta.length, 1500 + k)),
    bufBar: f64(randomF32(s.theta.length, 1600 + k)),
  }));
  const n0 = norm(segs);
  const fields = ["theta", "buf", "g"] as const;
  for (const maxNorm of [0, n0 / 3, 10 * n0]) {
    const hp: SgdStepHyper64 = { ...SGD, maxNorm };
    const rev = sgdReverse64(segs, bars, hp);
    for (const only of [...fields, "all"] as const) {
      const dir = segs.map((s, k) =>
        Object.fromEntries(fields.map((f, j) => {
          const random = f64(randomF32(s.theta.length, 1700 + 100 * k + j));
          return [f, only === "all" || only === f ? random : new Float64Array(random.length)];
        })) as Record<(typeof fields)[number], Float64Array>
      );
      const probeSgd = (h: number) => {
        const moved = segs.map((s, k) => ({
          theta: s.theta.map((x, i) => x + h * dir[k].theta[i]),
          buf: s.buf.map((x, i) => x + h * dir[k].buf[i]),
          g: s.g.map((x, i) => x + h * dir[k].g[i]),
          decayEnd: s.decayEnd,
        }));
        let sum = 0;
        for (const [k, st] of sgdForward64(moved, hp).entries()) {
          for (let i = 0; i < st.theta.length; i++) {
            sum += bars[k].thetaBar[i] * st.theta[i] + bars[k].bufBar[i] * st.buf[i];
          }
        }
        return sum;
      };
      let analytic = 0, scale = 0;
      for (const [k, d] of dir.entries()) {
        const pairs = [[rev[k].thetaBar, d.theta], [rev[k].bufBar, d.buf], [rev[k].gBar, d.g]];
        for (const [bar, step] of pairs) {
          for (let i = 0; i < bar.length; i++) {
            analytic += bar[i] * step[i];
            scale += Math.abs(bar[i] * step[i]);
          }
        }
      }
      const numeric = directional(probeSgd, 1e-3);
      const what = `SGD maxNorm ${maxNorm.toFixed(3)}, direction ${only}`;
      assert.ok(scale > 1e-3, `${what}: a direction the step does not feel`);
      assert.ok(
        Math.abs(numeric - analytic) <= 1e-8 * scale,
        `${what}: finite difference ${numeric}, reverse ${analytic} (scale ${scale})`,
      );
    }
  }
});

kernelTest(
  "SGD reverse kernels match the float64 reference (two segments, offsets)",
  async (rt) => {
    const sizes = [31, 17], offsets = [5, 2];
    const segs = sizes.map((n, k) => sgdSegment(n, k === 0 ? 12 : 17, 1800 + 10 * k));
    const bars = segs.map((s, k) => ({
      thetaBar: f64(randomF32(s.theta.length, 1900 + k)),
      bufBar: f64(randomF32(s.theta.length, 2000 + k)),
    }));
    let sq = 0;
    for (const s of segs) for (const x of s.g) sq += x * x;
    for (const clip of [0, 1 / 3, 10]) {
      const maxNorm = clip * Math.sqrt(sq);
      const expected = sgdReverse64(segs, bars, { ...SGD, maxNorm });
      const normSq = upload(rt, [sq]), gDot = placed(rt, new Float32Array(1), [1], 1);
      const ranges: SgdReverseRange[] = segs.map((s, k) => {
        const put = (x: ArrayLike<number>) =>
          placed(rt, Float32Array.from(x), [sizes[k]], offsets[k]);
        return {
          params: put(s.theta),
          grads: put(s.g),
          normSq,
          decayEnd: s.decayEnd,
          maxNorm,
          thetaBar: put(bars[k].thetaBar),
          bufBar: put(bars[k].bufBar),
          gBar: put(new Float32Array(sizes[k])),
          gDotGBarTilde: gDot,
        };
      });
      await sgdReverse(rt, ranges, SGD);
      for (const [k, r] of ranges.entries()) {
        const e = expected[k];
        const outputs = [
          ["thetaBar", r.thetaBar, e.thetaBar],
          ["bufBar", r.bufBar, e.bufBar],
          ["gBar", r.gBar, e.gBar],
        ] as const;
        for (const [name, t, ref] of outputs) {
          const largest = ref.reduce((a, x) => Math.max(a, Math.abs(x)), 0);
          assertClose(
            await readView(rt, t),
            ref,
            { rel: 2e-6, abs: 2e-6 * largest },
            `SGD clip ${clip}, segment ${k} ${name}`,
          );
        }
      }
    }
  },
);
