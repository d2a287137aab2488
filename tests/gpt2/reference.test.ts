// The float64 reference model: every parameter gradient against central finite differences on
// a tiny config with padding and a loss mask; clipping and optimiser steps against hand-derived
// updates.
import assert from "node:assert/strict";
import { prepareBatch } from "../../src/gpt2/batch.ts";
import {
  type Params64,
  referenceBackward,
  referenceForward,
  toParams64,
} from "../../src/gpt2/reference/model.ts";
import {
  adamState64,
  adamwStep,
  clipGradNorm,
  sgdStep,
} from "../../src/gpt2/reference/optimizer.ts";
import { spreadParams, tinyBatch, tinyConfig } from "../helpers/model_fixtures.ts";

Deno.test("reference backward matches finite differences for every parameter", () => {
  const config = tinyConfig({ vocab_size: 11, n_embd: 8, n_positions: 6 });
  const batch = prepareBatch(tinyBatch(config, 3, 6, 9), config);
  const params = toParams64(spreadParams(config, 3, 0.5));
  const fwd = referenceForward(params, config, batch);
  const grads = referenceBackward(params, config, batch, fwd);
  const h = 1e-5;
  let checked = 0;
  for (const [name, w] of params) {
    const g = grads.get(name)!;
    for (let i = 0; i < w.length; i++) {
      const keep = w[i];
      w[i] = keep + h;
      const up = referenceForward(params, config, batch).loss;
      w[i] = keep - h;
      const down = referenceForward(params, config, batch).loss;
      w[i] = keep;
      const fd = (up - down) / (2 * h);
      // Central differences: O(h²) truncation and ~1e-16/h rounding, both far below 1e-8.
      assert.ok(
        Math.abs(fd - g[i]) <= 1e-8 + 1e-6 * Math.abs(fd),
        `${name}[${i}]: analytic ${g[i]} vs finite difference ${fd}`,
      );
      checked++;
    }
  }
  assert.ok(checked > 1000);
  // Padding and the loss mask make some parameters' gradients exactly zero: wpe rows past T.
  assert.ok(grads.get("wpe.weight")!.some((v) => v !== 0));
});

Deno.test("padding: a padded token (left or right) changes no counted loss", () => {
  const config = tinyConfig();
  const raw = tinyBatch(config);
  const { T } = raw;
  // Row 2 gets a left pad at position 0 too (row 1 is right-padded by the fixture).
  const attentionMask = [...raw.attentionMask as number[]];
  attentionMask[2 * T] = 0;
  const params = toParams64(spreadParams(config, 4));
  const base = { ...raw, attentionMask };
  const a = referenceForward(params, config, prepareBatch(base, config));
  for (const at of [2 * T, 1 * T + T - 2]) {
    const tokens = [...raw.tokens as number[]];
    tokens[at] = (tokens[at] + 1) % config.vocab_size;
    const b = referenceForward(params, config, prepareBatch({ ...base, tokens }, config));
    assert.deepEqual(b.perExample, a.perExample, `pad at ${at}`);
  }
  // ...while changing a real token does change its row's loss.
  const tokens = [...raw.tokens as number[]];
  tokens[2 * T + 3] = (tokens[2 * T + 3] + 1) % config.vocab_size;
  const c = referenceForward(params, config, prepareBatch({ ...base, tokens }, config));
  assert.notEqual(c.perExample[2], a.perExample[2]);
});

function cloneParams(p: Params64): Params64 {
  return new Map([...p].map(([k, v]) => [k, Float64Array.from(v)]));
}

Deno.test("clipping scales to the max norm; AdamW and SGD first steps", () => {
  const config = tinyConfig({ n_layer: 1 });
  const params = toParams64(spreadParams(config, 6));
  const batch = prepareBatch(tinyBatch(config), config);
  const grads = referenceBackward(params, config, batch, referenceForward(params, config, batch));
  const before = cloneParams(grads);
  const norm = clipGradNorm(grads, 1e-3);
  let sq = 0;
  for (const g of grads.values()) for (const v of g) sq += v * v;
  assert.ok(Math.abs(Math.sqrt(sq) - 1e-3 * norm / (norm + 1e-6)) < 1e-12);

  // First AdamW step: m̂ = g, v̂ = g², so the step is lr·g/(|g| + eps) plus decoupled decay.
  const adam = cloneParams(params);
  const hp = { lr: 0.01, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1 };
  adamwStep(adam, before, adamState64(adam), hp, config);
  const w0 = params.get("h.0.mlp.c_fc.weight")![3], g0 = before.get("h.0.mlp.c_fc.weight")![3];
  const expected = w0 - hp.lr * hp.weightDecay * w0 - hp.lr * g0 / (Math.abs(g0) + hp.eps);
  assert.ok(Math.abs(adam.get("h.0.mlp.c_fc.weight")![3] - expected) < 1e-15);
  const b0 = params.get("ln_f.bias")![2], gb = before.get("ln_f.bias")![2];
  assert.ok(
    Math.abs(adam.get("ln_f.bias")![2] - (b0 - hp.lr * gb / (Math.abs(gb) + 1e-8))) < 1e-15,
  );

  const sgd = cloneParams(params);
  const mom = new Map([...params].map(([k, v]) => [k, new Float64Array(v.length)]));
  sgdStep(sgd, before, mom, { lr: 0.1, momentum: 0.9, weightDecay: 0.1 }, config);
  sgdStep(sgd, before, mom, { lr: 0.1, momentum: 0.9, weightDecay: 0.1 }, config);
  const b1 = (b0 - 0.1 * gb) - 0.1 * 1.9 * gb;
  assert.ok(Math.abs(sgd.get("ln_f.bias")![2] - b1) < 1e-14);
});
