// Curricula: seeded and reproducible, every id once per epoch, subsets of the requested size,
// explicit batches checked against the training set.
import assert from "node:assert/strict";
import fc from "fast-check";
import { toApiError } from "../../src/http/api_error.ts";
import { type CurriculumSpec, planCurriculum } from "../../src/training/curriculum.ts";
import { TrainingInputError } from "../../src/training/errors.ts";

const ids = (n: number) => Array.from({ length: n }, (_, i) => `ex-${i}`);

function counts(batches: string[][]): Map<string, number> {
  const out = new Map<string, number>();
  for (const b of batches) for (const id of b) out.set(id, (out.get(id) ?? 0) + 1);
  return out;
}

function rejects(fn: () => unknown, code: string): TrainingInputError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof TrainingInputError, `expected TrainingInputError, got ${e}`);
    assert.equal(e.code, code);
    assert.equal(toApiError(e)?.status, 400);
    return e;
  }
  assert.fail(`expected a ${code} error`);
}

const shuffle: CurriculumSpec = { kind: "shuffle" };

Deno.test("shuffle: same seed and run give the same batches; other runs or seeds differ", () => {
  const base = { trainIds: ids(23), batchSize: 4, length: { epochs: 2 }, seed: 7, run: 0 };
  const a = planCurriculum(shuffle, base);
  assert.deepEqual(planCurriculum(shuffle, base), a);
  assert.notDeepEqual(planCurriculum(shuffle, { ...base, run: 1 }), a);
  assert.notDeepEqual(planCurriculum(shuffle, { ...base, seed: 8 }), a);
  // seed + run: run 1 of seed 7 is run 0 of seed 8, as documented.
  assert.deepEqual(
    planCurriculum(shuffle, { ...base, run: 1 }),
    planCurriculum(shuffle, {
      ...base,
      seed: 8,
    }),
  );
});

Deno.test("shuffle by epochs: every id exactly once per epoch, epochs cut into batches", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 40 }),
      fc.integer({ min: 1, max: 40 }),
      fc.integer({ min: 1, max: 4 }),
      fc.integer({ min: 0, max: 1000 }),
      (n, batchSize, epochs, seed) => {
        fc.pre(batchSize <= n);
        const batches = planCurriculum(shuffle, {
          trainIds: ids(n),
          batchSize,
          length: { epochs },
          seed,
          run: 0,
        });
        const perEpoch = Math.ceil(n / batchSize);
        assert.equal(batches.length, perEpoch * epochs);
        for (let e = 0; e < epochs; e++) {
          const epoch = batches.slice(e * perEpoch, (e + 1) * perEpoch);
          assert.deepEqual([...counts(epoch).keys()].sort(), ids(n).sort());
          assert.ok([...counts(epoch).values()].every((c) => c === 1));
          epoch.slice(0, -1).forEach((b) => assert.equal(b.length, batchSize));
        }
      },
    ),
    { numRuns: 60 },
  );
});

Deno.test("shuffle by steps continues over epochs until the step count", () => {
  const batches = planCurriculum(shuffle, {
    trainIds: ids(10),
    batchSize: 3,
    length: { steps: 9 },
    seed: 1,
    run: 2,
  });
  assert.equal(batches.length, 9);
  // Epochs of 10 ids are batches of 3, 3, 3, 1: steps 1-4 and 5-8 are whole epochs.
  assert.deepEqual(batches.map((b) => b.length), [3, 3, 3, 1, 3, 3, 3, 1, 3]);
  assert.equal(new Set(batches.slice(0, 4).flat()).size, 10);
  assert.equal(new Set(batches.slice(4, 8).flat()).size, 10);
  assert.notDeepEqual(batches.slice(0, 4), batches.slice(4, 8));
});

Deno.test("subsample: each run uses round(fraction·n) ids, shuffled over epochs", () => {
  const trainIds = ids(50);
  const subsets: string[][] = [];
  for (let run = 0; run < 4; run++) {
    const batches = planCurriculum({ kind: "subsample", subsampleFraction: 0.3 }, {
      trainIds,
      batchSize: 4,
      length: { epochs: 3 },
      seed: 11,
      run,
    });
    const seen = counts(batches);
    assert.equal(seen.size, 15);
    assert.ok([...seen.keys()].every((id) => trainIds.includes(id)));
    assert.ok([...seen.values()].every((c) => c === 3), "each subset id once per epoch");
    assert.equal(batches.length, 3 * Math.ceil(15 / 4));
    subsets.push([...seen.keys()].sort());
  }
  assert.equal(new Set(subsets.map((s) => s.join())).size, 4, "runs draw different subsets");
  // Reproducible.
  const again = planCurriculum({ kind: "subsample", subsampleFraction: 0.3 }, {
    trainIds,
    batchSize: 4,
    length: { epochs: 3 },
    seed: 11,
    run: 3,
  });
  assert.deepEqual([...counts(again).keys()].sort(), subsets[3]);
});

Deno.test("subsample with steps, and a subset smaller than the batch is a 400", () => {
  const batches = planCurriculum({ kind: "subsample", subsampleFraction: 0.5 }, {
    trainIds: ids(9),
    batchSize: 2,
    length: { steps: 7 },
    seed: 3,
    run: 0,
  });
  assert.equal(batches.length, 7);
  assert.equal(new Set(batches.flat()).size, 5); // round(4.5) = 5, all seen by step 3
  rejects(() =>
    planCurriculum({ kind: "subsample", subsampleFraction: 0.1 }, {
      trainIds: ids(20),
      batchSize: 3,
      length: { steps: 2 },
      seed: 3,
      run: 0,
    }), "batch_too_large");
});

Deno.test("batch size larger than the training set is a 400", () => {
  const e = rejects(
    () =>
      planCurriculum(shuffle, {
        trainIds: ids(5),
        batchSize: 6,
        length: { epochs: 1 },
        seed: 0,
        run: 0,
      }),
    "batch_too_large",
  );
  assert.deepEqual(e.details, { batchSize: 6, trainExamples: 5 });
});

Deno.test("explicit batches are used as given; unknown ids are a 400 listing them", () => {
  const trainIds = ids(4);
  const batches = [["ex-1", "ex-0"], ["ex-3"], ["ex-1", "ex-1"]];
  const plan = planCurriculum({ batches }, { trainIds, batchSize: 2, seed: 0, run: 5 });
  assert.deepEqual(plan, batches);
  const e = rejects(
    () =>
      planCurriculum({ kind: "explicit", batches: [["ex-1", "nope"], ["ex-9", "nope"]] }, {
        trainIds,
        batchSize: 2,
        seed: 0,
        run: 0,
      }),
    "unknown_train_ids",
  );
  assert.deepEqual(e.details, { ids: ["nope", "ex-9"], total: 2 });
  rejects(
    () => planCurriculum({ batches: [["ex-1"], []] }, { trainIds, batchSize: 2, seed: 0, run: 0 }),
    "invalid_curriculum",
  );
});

Deno.test("run length must be given and positive", () => {
  const base = { trainIds: ids(5), batchSize: 2, seed: 0, run: 0 };
  rejects(() => planCurriculum(shuffle, base), "invalid_curriculum");
  rejects(() => planCurriculum(shuffle, { ...base, length: { steps: 0 } }), "invalid_curriculum");
  rejects(
    () => planCurriculum(shuffle, { ...base, length: { epochs: 1.5 } }),
    "invalid_curriculum",
  );
});
