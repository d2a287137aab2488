// Test fixtures: a score set stored as the influence pipeline stores one (a record in the influence
// store, its tensors from scoreTensors in the tensor store, marked ready), without computing any
// influence; and small studies uploaded through the HTTP API.
import assert from "node:assert/strict";
import { scoreTensors } from "../../src/influence/scores/result_file.ts";
import type { ScoresSpec } from "../../src/influence/scores/service.ts";
import { INFLUENCE } from "../../src/influence/store.ts";
import type { Store } from "../../src/store/store.ts";

export type AppLike = { request: (p: string, i?: RequestInit) => Response | Promise<Response> };

export interface ScoreSetFixture {
  mode?: "pairwise" | "self";
  /** Query ids (rows); ignored in self mode. */
  queries: string[];
  train: string[];
  /** Pairwise [query][train], null where a filter skipped the pair; self: one row [train]. */
  scores: (number | null)[][];
  /** Leave the record running (not ready). */
  running?: boolean;
}

/** Stores a score set the way the scores job does; its id. */
export async function storeScoreSet(store: Store, fixture: ScoreSetFixture): Promise<string> {
  const mode = fixture.mode ?? "pairwise";
  const queries = mode === "pairwise" ? fixture.queries : [];
  const M = fixture.train.length;
  const rows = mode === "pairwise" ? queries.length : 1;
  assert.equal(fixture.scores.length, rows);
  const total = new Float64Array(rows * M);
  const candidates: Set<number>[] = [];
  fixture.scores.forEach((row, q) => {
    assert.equal(row.length, M);
    const keep = new Set<number>();
    row.forEach((v, m) => {
      if (v !== null) {
        keep.add(m);
        total[q * M + m] = v;
      }
    });
    candidates.push(keep);
  });
  const filtered = fixture.scores.some((row) => row.some((v) => v === null));
  const spec: ScoresSpec = {
    factors: "fixture-factors",
    mode,
    damping: null,
    queryRank: null,
    filter: filtered ? { method: "bm25", top: 1 } : null,
    perModule: false,
    perToken: false,
    batchSize: 8,
    queries: { dataset: null, ids: queries },
    train: { dataset: "fixture-dataset", ids: fixture.train },
  };
  const influence = store.get(INFLUENCE);
  const record = influence.create<ScoresSpec>("scores", { model: "fixture-model", spec });
  if (fixture.running) return record.id;
  const tensors = scoreTensors({
    result: {
      mode,
      modules: ["h.0.mlp.c_fc"],
      damping: [0],
      ranks: [null],
      queries: rows,
      train: M,
      perModule: [Float32Array.from(total)],
      total,
    },
    scoredTrain: fixture.train.map((_, m) => m),
    trainCount: M,
    candidates: mode === "pairwise" && filtered ? candidates : null,
    trainLengths: fixture.train.map(() => 4),
    keepModules: false,
  });
  const file = await store.tensors.put(tensors, { kind: "influence-scores" });
  const summary = {
    modules: ["h.0.mlp.c_fc"],
    damping: [0],
    ranks: [null],
    scoredPairs: candidates.reduce((n, c) => n + c.size, 0),
    seconds: 0,
  };
  assert.ok(await influence.markReady("scores", record.id, summary, file.id));
  return record.id;
}

export async function postJson(app: AppLike, path: string, body: unknown): Promise<Response> {
  return await app.request(path, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}

export interface RunFixture {
  name: string;
  /** Training ids per step. */
  batches: string[][];
  /** (T+1) rows of m losses. */
  losses: number[][];
}

/** Uploads runs to `study`; their ids, in order. */
export async function uploadRuns(
  app: AppLike,
  study: string,
  testExamples: string[],
  runs: readonly RunFixture[],
): Promise<string[]> {
  const ids: string[] = [];
  for (const run of runs) {
    const res = await postJson(app, "/v1/runs", {
      study,
      name: run.name,
      testExamples,
      steps: run.batches.map((batch) => ({ batch })),
      losses: run.losses,
    });
    assert.equal(res.status, 201, await res.clone().text());
    ids.push((await res.json()).id);
  }
  return ids;
}

/** Waits for a job to finish; its record. */
export async function finishedJob(app: AppLike, job: string) {
  await (await app.request(`/v1/jobs/${job}/events`)).text();
  return await (await app.request(`/v1/jobs/${job}`)).json();
}
