// The float64 influence reference against kronfluence 1.0.1's scores on the fixture GPT-2
// (tests/fixtures/influence/), and its own exact identities.
//
// Agreement measured when this test was written (kronfluence runs in float32, this reference in
// float64): every setting's Pearson correlation is 1 − O(1e-12), and every score is within
// ~1.5e-6 × the setting's largest |score| (per-module terms within ~6.3e-6 × the module's largest,
// self-influence within 2.1e-6 relative). So besides Pearson ≥ 0.99 the tests assert a tolerance
// of 2e-5 × max|expected|, a few times the float32 noise and far below any convention change (the
// smallest measured effect of one, dropping the bias, moves Pearson to 0.998).
import assert from "node:assert/strict";
import { assertClose, maxAbs } from "../../src/gpu/reference/compare.ts";
import { prepareBatch } from "../../src/gpt2/batch.ts";
import { referenceBackward, referenceForward, toParams64 } from "../../src/gpt2/reference/model.ts";
import { gradientMatrixFromParams, trackedModules } from "../../src/influence/modules.ts";
import {
  fitFactorsReference,
  type InfluenceFactors,
  type Strategy,
} from "../../src/influence/reference/factors.ts";
import {
  rotateFromEigenbasis,
  rotateIntoEigenbasis,
} from "../../src/influence/reference/matrix.ts";
import {
  type InfluenceScores,
  precondition,
  preconditionedQueries,
  scoresReference,
} from "../../src/influence/reference/scores.ts";
import { sequenceBatch, sequenceTaps, tapGradient } from "../../src/influence/reference/taps.ts";
import { influenceFixture, type SettingExpected } from "./fixture.ts";
import { pearson } from "../helpers/score_agreement.ts";

const fixture = influenceFixture();
const params64 = toParams64(fixture.params);
const { config } = fixture;

const factorCache = new Map<string, InfluenceFactors>();

function factorsFor(strategy: Strategy, modules: "mlp" | "all"): InfluenceFactors {
  const key = `${strategy}/${modules}`;
  let f = factorCache.get(key);
  if (!f) {
    f = fitFactorsReference({
      params: params64,
      config,
      examples: fixture.train,
      modules,
      strategy,
    });
    factorCache.set(key, f);
  }
  return f;
}

function run(
  setting: SettingExpected,
  extra: { perModule?: boolean; perToken?: boolean; selfScores?: boolean } = {},
) {
  const s = setting.settings;
  return scoresReference({
    factors: factorsFor(s.strategy, s.modules),
    params: params64,
    config,
    queries: fixture.queries,
    train: fixture.train,
    damping: s.damping,
    queryRank: s.query_rank ?? null,
    ...extra,
  });
}

const TOLERANCE = 2e-5;

for (const name of Object.keys(fixture.expected.settings)) {
  Deno.test(`kronfluence fixture ${name}: Pearson ≥ 0.99 and every score within ${TOLERANCE} × max`, () => {
    const setting = fixture.expected.settings[name];
    assert.deepEqual(fixture.expected.query_ids, fixture.queries.map((q) => q.id));
    assert.deepEqual(fixture.expected.train_ids, fixture.train.map((t) => t.id));
    const result = run(setting);
    const expected = setting.scores.flat();
    assert.equal(result.scores.length, expected.length);
    const r = pearson(result.scores, expected);
    assert.ok(r >= 0.99, `${name}: Pearson ${r}`);
    assertClose(result.scores, expected, { abs: TOLERANCE * maxAbs(expected) }, `${name} scores`);
  });
}

Deno.test("kronfluence fixture ekfac-mlp / ekfac-all: per-module terms, per-token scores, self-influence", () => {
  for (const name of ["ekfac-mlp", "ekfac-all"]) {
    const setting = fixture.expected.settings[name];
    const result = run(setting, { perModule: true, perToken: true, selfScores: true });
    for (const [module, terms] of Object.entries(setting.per_module!)) {
      const i = result.modules.indexOf(module);
      assert.ok(i >= 0, `${name}: module ${module} tracked`);
      const e = terms.flat();
      assertClose(result.perModule![i], e, { abs: TOLERANCE * maxAbs(e) }, `${name} ${module}`);
    }
    assert.equal(Object.keys(setting.per_module!).length, result.modules.length);
    if (setting.per_token) {
      const all = fixture.queries.flatMap((q) =>
        fixture.train.flatMap((t) => setting.per_token![q.id][t.id])
      );
      const scale = maxAbs(all);
      fixture.queries.forEach((q, qi) =>
        fixture.train.forEach((t, ti) => {
          const e = setting.per_token![q.id][t.id];
          assert.equal(e.length, t.tokens.length);
          assertClose(
            result.perToken![qi][ti],
            e,
            { abs: TOLERANCE * scale },
            `per-token ${q.id}/${t.id}`,
          );
        })
      );
    }
    if (setting.self) {
      assertClose(result.selfScores!, setting.self, { rel: 1e-5 }, `${name} self`);
    }
  }
});

function checkDecompositions(result: InfluenceScores) {
  const { queries: Q, train: N } = result;
  for (let q = 0; q < Q; q++) {
    for (let m = 0; m < N; m++) {
      const score = result.scores[q * N + m];
      const tokens = result.perToken![q][m];
      let tokenSum = 0, moduleSum = 0, magnitude = 0;
      for (const v of tokens) {
        tokenSum += v;
        magnitude += Math.abs(v);
      }
      for (const terms of result.perModule!) moduleSum += terms[q * N + m];
      // Sums of the same terms in another order: rounding only.
      const tol = 1e-12 * Math.max(magnitude, Math.abs(score));
      assert.ok(Math.abs(tokenSum - score) <= tol, `q${q} m${m}: Σ_t ${tokenSum} vs ${score}`);
      assert.ok(Math.abs(moduleSum - score) <= 1e-12 * Math.abs(score) + 1e-300);
      // The last input position feeds no later loss: its score is exactly 0.
      assert.equal(tokens[tokens.length - 1], 0);
    }
  }
}

Deno.test("decompositions: per-token and per-module scores sum to the pair score (every strategy)", () => {
  for (const name of ["ekfac-all", "kfac-all", "diagonal-mlp", "identity-all", "ekfac-all-rank4"]) {
    checkDecompositions(run(fixture.expected.settings[name], { perModule: true, perToken: true }));
  }
});

Deno.test("self-influence equals the diagonal of train-against-train pairwise scores", () => {
  for (const strategy of ["ekfac", "kfac", "diagonal", "identity"] as const) {
    const factors = factorsFor(strategy, "all");
    const result = scoresReference({
      factors,
      params: params64,
      config,
      queries: fixture.train,
      train: fixture.train,
      selfScores: true,
    });
    const N = fixture.train.length;
    const diagonal = Float64Array.from({ length: N }, (_, m) => result.scores[m * N + m]);
    assertClose(result.selfScores!, diagonal, { rel: 1e-12 }, `${strategy} self`);
    // (F + λ)⁻¹ is symmetric positive definite here: the pair matrix is symmetric, self > 0.
    for (let a = 0; a < N; a++) {
      assert.ok(result.selfScores![a] > 0);
      for (let b = 0; b < a; b++) {
        const x = result.scores[a * N + b], y = result.scores[b * N + a];
        assert.ok(Math.abs(x - y) <= 1e-11 * Math.max(Math.abs(x), result.selfScores![a]));
      }
    }
  }
});

Deno.test("identity scores are dot products of referenceBackward's parameter gradients", () => {
  const modules = trackedModules(config, "all");
  const gradients = (example: (typeof fixture.train)[number]) => {
    const { prepared, weights } = sequenceBatch(example, config);
    const fwd = referenceForward(params64, config, prepared);
    const grads = referenceBackward(params64, config, prepared, fwd, weights);
    return modules.map((m) => ({
      weight: grads.get(`${m.name}.weight`)!,
      bias: grads.get(`${m.name}.bias`)!,
    }));
  };
  const result = run(fixture.expected.settings["identity-all"]);
  const queryGrads = fixture.queries.map(gradients);
  fixture.train.forEach((example, m) => {
    const trainGrads = gradients(example);
    // The taps' Σ_t s_t a_tᵀ is the module's gradient matrix.
    const taps = sequenceTaps({ params: params64, config }, example, modules).taps;
    taps.forEach((tap, i) => {
      const fromParams = gradientMatrixFromParams(
        modules[i],
        trainGrads[i].weight,
        trainGrads[i].bias,
      );
      assertClose(
        tapGradient(tap),
        fromParams,
        { abs: 1e-12 * maxAbs(fromParams) },
        tap.module.name,
      );
    });
    queryGrads.forEach((qg, q) => {
      let dot = 0;
      qg.forEach((g, i) => {
        for (let j = 0; j < g.weight.length; j++) dot += g.weight[j] * trainGrads[i].weight[j];
        for (let j = 0; j < g.bias.length; j++) dot += g.bias[j] * trainGrads[i].bias[j];
      });
      const got = result.scores[q * fixture.train.length + m];
      assert.ok(Math.abs(got - dot) <= 1e-12 * Math.abs(dot), `q${q} m${m}: ${got} vs ${dot}`);
    });
  });
});

Deno.test("query low rank: rank 32 against full rank, and rank ≥ min dimension is full rank", () => {
  // On this model (d = 32, f = 128) the gradient matrices are c_attn [96, 33], attn.c_proj
  // [32, 33], c_fc [128, 33], mlp.c_proj [32, 129]: rank 32 truncates only c_attn and c_fc, from
  // 33 to 32 (the kronfluence rule keeps a module whole where min(dOut, cols) ≤ k), so rank 32 is
  // almost full rank here; rank 4 (the fixture's) truncates every module.
  const factors = factorsFor("ekfac", "all");
  const common = {
    factors,
    params: params64,
    config,
    queries: fixture.queries,
    train: fixture.train,
  };
  const full = scoresReference(common);
  const r32 = scoresReference({ ...common, queryRank: 32 });
  const truncated = r32.preconditioned[0].lowRank.map((l, i) => [r32.modules[i], l?.rank ?? null]);
  assert.deepEqual(truncated, [
    ["h.0.attn.c_attn", 32],
    ["h.0.attn.c_proj", null],
    ["h.0.mlp.c_fc", 32],
    ["h.0.mlp.c_proj", null],
    ["h.1.attn.c_attn", 32],
    ["h.1.attn.c_proj", null],
    ["h.1.mlp.c_fc", 32],
    ["h.1.mlp.c_proj", null],
  ]);
  assert.ok(pearson(r32.scores, full.scores) >= 0.995);
  const r33 = scoresReference({ ...common, queryRank: 33 });
  assert.ok(r33.preconditioned[0].lowRank.every((l) => l === null));
  assert.deepEqual(r33.scores, full.scores);
  // Rank 4: every module truncated, and the score is ⟨P_q at rank 4, DW⟩.
  const r4 = preconditionedQueries({ ...common, queryRank: 4 });
  assert.ok(r4.every((q) => q.lowRank.every((l) => l !== null && l.rank === 4)));
});

Deno.test("factors: covariance and Λ identities on the fixture", () => {
  const ekfac = factorsFor("ekfac", "all");
  const kfac = factorsFor("kfac", "all");
  const diagonal = factorsFor("diagonal", "all");
  const positions = fixture.train.reduce((n, e) => n + e.tokens.length, 0);
  assert.equal(ekfac.positions, positions);
  assert.equal(ekfac.sequences, fixture.train.length);
  ekfac.modules.forEach((f, i) => {
    const { cols, dOut } = f.module;
    const A = f.activationCovariance!;
    // The appended 1: A's bias-bias entry is the mean of 1·1.
    assert.ok(Math.abs(A[cols * cols - 1] - 1) < 1e-15);
    for (let a = 0; a < cols; a++) {
      for (let b = 0; b < cols; b++) assert.equal(A[a * cols + b], A[b * cols + a]);
    }
    // Rotation preserves Frobenius norms: Σ Λ_ekfac = mean_n ‖DW_n‖² = Σ Λ_diagonal.
    const sum = (v: Float64Array) => v.reduce((s, x) => s + x, 0);
    const e = sum(f.lambda!), d = sum(diagonal.modules[i].lambda!);
    assert.ok(Math.abs(e - d) <= 1e-12 * d, `${f.module.name}: ΣΛ ${e} vs ${d}`);
    assert.ok(f.lambda!.every((x) => x >= 0));
    // KFAC's Λ = outer(λ_S, λ_A), so its mean is mean(λ_S)·mean(λ_A).
    const kf = kfac.modules[i];
    const mS = sum(kf.gradientEigen!.values) / dOut, mA = sum(kf.activationEigen!.values) / cols;
    assert.ok(Math.abs(sum(kf.lambda!) / (dOut * cols) - mS * mA) <= 1e-12 * Math.abs(mS * mA));
    // The eigenbasis rotations are inverse to each other.
    const g = Float64Array.from({ length: dOut * cols }, (_, k) => Math.sin(k));
    const back = rotateFromEigenbasis(f, rotateIntoEigenbasis(f, g));
    assertClose(back, g, { abs: 1e-13 }, "rotation round trip");
  });
});

Deno.test("preconditioning solves (F + λ)·P = G for EK-FAC", () => {
  const factors = factorsFor("ekfac", "mlp");
  const f = factors.modules[0];
  const { dOut, cols } = f.module;
  const g = Float64Array.from({ length: dOut * cols }, (_, k) => Math.cos(3 * k));
  const damping = 1e-3;
  const p = precondition(f, "ekfac", g, damping);
  // (F + λ)·P = Q_S [(Q_Sᵀ P Q_A) ⊙ (Λ + λ)] Q_Aᵀ.
  const r = rotateIntoEigenbasis(f, p);
  for (let i = 0; i < r.length; i++) r[i] *= f.lambda![i] + damping;
  // The round trip amplifies rounding by the condition (max Λ + λ)/λ.
  const condition = (Math.max(...f.lambda!) + damping) / damping;
  assertClose(rotateFromEigenbasis(f, r), g, { abs: 1e-15 * condition * maxAbs(g) }, "(F + λ)·P");
  // An absolute damping overrides the heuristic; the heuristic is 0.1 × mean(Λ) per module.
  const mean = f.lambda!.reduce((s, x) => s + x, 0) / f.lambda!.length;
  const heuristic = scoresReference({
    factors,
    params: params64,
    config,
    queries: fixture.queries.slice(0, 1),
    train: fixture.train.slice(0, 1),
  });
  assert.ok(Math.abs(heuristic.damping[0] - 0.1 * mean) <= 1e-15 * mean);
  assert.throws(() => precondition(f, "ekfac", new Float64Array(3), 0), RangeError);
});

Deno.test("batching: a sequence's taps do not depend on the sequences scored with it", () => {
  // Each sequence is its own batch; the summed loss's gradient is the per-example gradient. A
  // padded two-example batch through referenceBackward gives the same rows.
  const modules = trackedModules(config, "mlp");
  const [a, b] = [fixture.train[1], fixture.train[0]];
  const alone = sequenceTaps({ params: params64, config }, a, modules);
  const T = b.tokens.length;
  const tokens = [...a.tokens, ...new Array(T - a.tokens.length).fill(0), ...b.tokens];
  const attentionMask = [
    ...a.tokens.map(() => 1),
    ...new Array(T - a.tokens.length).fill(0),
    ...b.tokens.map(() => 1),
  ];
  const lossMask = [...a.lossMask, ...new Array(T - a.tokens.length).fill(0), ...b.lossMask];
  const prepared = prepareBatch({ B: 2, T, tokens, attentionMask, lossMask }, config);
  const weights = Float64Array.from(prepared.exampleWeights, (w) => (w > 0 ? 1 : 0));
  const fwd = referenceForward(params64, config, prepared);
  referenceBackward(params64, config, prepared, fwd, weights, (tap) => {
    const i = modules.findIndex((m) => m.name === tap.name);
    if (i < 0) return;
    const own = alone.taps[i];
    const rows = a.tokens.length, dOut = own.module.dOut;
    const s = tap.outputGrad.subarray(0, rows * dOut);
    assertClose(s, own.s, { abs: 1e-14 * maxAbs(own.s) + 1e-300 }, `${tap.name} s`);
  });
});
