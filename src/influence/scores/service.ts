// Influence scores as a service (POST/GET/DELETE /v1/influence/scores and the readers of a score
// set). The request is checked in full before anything is stored; a job then computes the scores
// (streaming the training examples) and stores them as one checksummed safetensors file.
import type { DatasetExample } from "../../datasets/example.ts";
import { loadDatasetExamples } from "../../datasets/load.ts";
import { ConflictError, InvalidInputError, NotFoundError } from "../../errors.ts";
import { type GpuHandle, requireRuntime } from "../../gpu/handle.ts";
import type { JobHandler } from "../../jobs/manager.ts";
import { checkpointKey, requestOfKey, resolveWeights } from "../../models/weights.ts";
import { encodeSafetensors } from "../../store/safetensors.ts";
import type { Store } from "../../store/store.ts";
import type { TextTokenizer } from "../../text/tokenizer.ts";
import { decodeBytes } from "../../text/byte_tokenizer.ts";
import { Bm25Index } from "../bm25.ts";
import { factorSetFrom } from "../factors/factor_set.ts";
import type { InfluenceWarning } from "../factors/warnings.ts";
import {
  type FactorsRecord,
  type FactorsSpec,
  type FactorsSummary,
  type InfluenceDeps,
  resolveModules,
} from "../factors/service.ts";
import { datasetExamples, encodeSequences, inlineExamples } from "../inputs.ts";
import { deleteInfluenceRecord, rate, storeInfluenceResult, submitInfluenceJob } from "../jobs.ts";
import type { ScoresRequest } from "../schemas.ts";
import type { Sequence } from "../sequences.ts";
import { INFLUENCE, type InfluenceRecord } from "../store.ts";
import { computeScores, QueriesTooLargeError } from "./engine.ts";
import { ScoreFile, scoreTensors } from "./result_file.ts";

export interface ScoresSpec {
  /** The factors the scores were computed with; null for TracIn (method "tracin"). */
  factors: string | null;
  /** How the scores were computed; absent: influence functions with `factors`. */
  method?: "influence" | "tracin" | "gradients" | "magic";
  /** TracIn-CP (src/tracin/): the run, the parameters, and each checkpoint's step and η. */
  tracin?: {
    run: string;
    parameters: "all" | "mlp" | "linear";
    checkpoints: { step: number; lr: number }[];
    /** The gradient projection (src/projection/), if any. */
    projection?: { kind: "dense" | "kronecker"; dim: number; seed: number } | null;
  };
  /** Metagradients (src/metagradients/): the replayed run, its checkpointing and length. */
  magic?: { run: string; checkpointing: "sqrt" | "log" | "all"; steps: number };
  /** Scores from stored projected gradients (src/projection/): the two sets and the method. */
  gradients?: { train: string; queries: string; method: "dot" | "cosine" | "trak" };
  mode: "pairwise" | "self";
  damping: number | null;
  queryRank: number | null;
  filter: { method: "bm25"; top: number } | null;
  perModule: boolean;
  perToken: boolean;
  batchSize: number;
  /** The factors' warnings, carried by the scores computed from them (absent: none). */
  warnings?: InfluenceWarning[];
  /** Where the queries came from: a dataset, or inline examples. */
  queries: { dataset: string | null; ids: string[] };
  train: { dataset: string; ids: string[] };
}

export interface ScoresSummary {
  modules: string[];
  damping: number[];
  ranks: (number | null)[];
  /** Pairs scored (all of them unless a filter skipped some). */
  scoredPairs: number;
  seconds: number;
}

export type ScoresRecord = InfluenceRecord<ScoresSpec, ScoresSummary>;

const GPU_NEED = {
  what: "influence functions need a GPU",
  noDevice: "no GPU device is available",
};

/**
 * The weights a scores request names as a check (`model`, or `run` with `step`) as a key; null
 * when it names none. 400 naming the field for both, or one of `run` and `step` alone.
 */
function checkedKey(request: ScoresRequest): string | null {
  const hasRun = request.run !== undefined || request.step !== undefined;
  if (request.model !== undefined && hasRun) {
    throw new InvalidInputError('give "model" or "run" with "step", not both', { field: "run" });
  }
  if (!hasRun) return request.model ?? null;
  if (request.run === undefined || request.step === undefined) {
    const field = request.run === undefined ? "run" : "step";
    throw new InvalidInputError(`"run" and "step" go together: \`${field}\` is missing`, {
      field,
    });
  }
  return checkpointKey(request.run, request.step);
}

/** Ready factors, or 409 (still fitting, failed) / 404; 400 when fitted on other weights. */
function readyFactors(store: Store, id: string, model: string | null): FactorsRecord {
  const factors = store.get(INFLUENCE).get<FactorsSpec, FactorsSummary>("factors", id);
  if (!factors) throw new NotFoundError(`influence factors ${id}`, { field: "factors", id });
  if (factors.status !== "ready") {
    throw new ConflictError(
      factors.status === "running"
        ? `factors ${id} are still being fitted (job ${factors.job}); wait for it to finish`
        : `factors ${id} ${factors.status}: ${factors.error ?? "no result"}; fit them again`,
      { field: "factors", id, status: factors.status, job: factors.job },
      factors.status === "running" ? "factors_not_ready" : "factors_unusable",
    );
  }
  if (model !== null && model !== factors.model) {
    const name = (key: string) => {
      const source = requestOfKey(key);
      return source.model !== undefined
        ? `model ${source.model}`
        : `step ${source.step} of run ${source.run}`;
    };
    throw new InvalidInputError(
      `factors ${id} were fitted on ${name(factors.model)}, not ${name(model)}`,
      {
        field: requestOfKey(model).model !== undefined ? "model" : "run",
        factorsModel: factors.model,
        model,
      },
      "factors_of_another_model",
    );
  }
  return factors;
}

/** Per query, the `top` best BM25 candidates among the training sequences. */
function bm25Candidates(
  queries: readonly Sequence[],
  train: readonly Sequence[],
  top: number,
): Set<number>[] {
  const index = Bm25Index.build(train.map((s) => s.tokens));
  return queries.map((q) => new Set(index.topK(q.tokens, top).map((h) => h.index)));
}

/** What an influence-scores job stores: the record it fills, and the request to plan it again. */
export interface ScoresJobInput {
  scores: string;
  factors: string;
  request: ScoresRequest;
}

export async function startScores(
  deps: InfluenceDeps,
  request: ScoresRequest,
): Promise<{ scores: ScoresRecord; job: string }> {
  requireRuntime(deps.gpu, GPU_NEED);
  const { factors, spec } = await planScores(deps.store, request);
  const influence = deps.store.get(INFLUENCE);
  const record = influence.create<ScoresSpec>("scores", {
    model: factors.model,
    parent: factors.id,
    spec,
  });
  const input: ScoresJobInput = { scores: record.id, factors: factors.id, request };
  const job = submitInfluenceJob({ jobs: deps.jobs, influence }, "scores", record.id, input);
  return { scores: influence.get<ScoresSpec, ScoresSummary>("scores", record.id)!, job: job.id };
}

/** The one planning of a request, at the request and again in its job (on whichever node). */
async function planScores(store: Store, request: ScoresRequest) {
  const factors = readyFactors(store, request.factors, checkedKey(request));
  const pairwise = request.mode === "pairwise";
  if (pairwise && !request.queries) {
    throw new InvalidInputError("pairwise scores need `queries`", { field: "queries" });
  }
  if (!pairwise && (request.queries || request.filter || request.queryRank || request.perToken)) {
    const field = request.queries
      ? "queries"
      : request.filter
      ? "filter"
      : request.queryRank
      ? "queryRank"
      : "perToken";
    throw new InvalidInputError(`\`${field}\` applies only to pairwise scores`, { field });
  }
  // Scores are computed at the weights the factors were fitted on.
  const loaded = await resolveWeights(store, requestOfKey(factors.model));
  const { config } = loaded;
  const modules = resolveModules(config, factors.spec.modules);
  if (request.queryRank !== undefined) {
    const largest = Math.max(...modules.map((m) => Math.min(m.dOut, m.cols)));
    if (request.queryRank >= largest) {
      throw new InvalidInputError(
        `queryRank ${request.queryRank} truncates no module: the largest rank a tracked module ` +
          `allows is ${largest} (min(d_out, d_in + 1)); omit queryRank for full rank`,
        { field: "queryRank", queryRank: request.queryRank, maxRank: largest - 1 },
        "query_rank_too_large",
      );
    }
  }
  const trainSelection = request.train ??
    { dataset: factors.spec.dataset, ids: factors.spec.ids };
  const trainExamples = await datasetExamples(store, trainSelection);
  const train = encodeSequences(loaded.tokenizer, trainExamples, config.n_positions, "train");
  let queryExamples: DatasetExample[] = [];
  let querySource: ScoresSpec["queries"] = { dataset: null, ids: [] };
  if (request.queries && "dataset" in request.queries) {
    queryExamples = await datasetExamples(store, request.queries);
    querySource = { dataset: request.queries.dataset, ids: queryExamples.map((e) => e.id) };
  } else if (request.queries) {
    queryExamples = inlineExamples(request.queries.examples, "queries.examples");
    querySource = { dataset: null, ids: queryExamples.map((e) => e.id) };
  }
  const queries = encodeSequences(loaded.tokenizer, queryExamples, config.n_positions, "queries");
  if (queries.some((q) => !q.lossMask.slice(1).includes(1))) {
    const i = queries.findIndex((q) => !q.lossMask.slice(1).includes(1));
    throw new InvalidInputError(
      `query "${queries[i].id}" has no token to measure (a text needs at least two tokens)`,
      { field: "queries", index: i, id: queries[i].id },
      "nothing_to_score",
    );
  }
  const spec: ScoresSpec = {
    factors: factors.id,
    mode: request.mode,
    damping: request.damping,
    queryRank: request.queryRank ?? null,
    filter: request.filter ?? null,
    perModule: request.perModule,
    perToken: request.perToken,
    batchSize: request.batchSize,
    warnings: factors.spec.warnings ?? [],
    queries: querySource,
    train: { dataset: trainSelection.dataset, ids: trainExamples.map((e) => e.id) },
  };
  const factorsFile = await store.tensors.get(factors.tensor!);
  const factorSet = factorSetFrom(
    factors.spec.strategy,
    modules,
    {
      positions: Number(factorsFile.metadata.positions ?? 0),
      sequences: Number(factorsFile.metadata.sequences ?? 0),
    },
    (name) => {
      const entry = factorsFile.tensors.get(name);
      return entry ? new Float32Array(entry.data.slice().buffer) : null;
    },
  );
  // The filter picks candidates before any gradient is computed; only their union is scored.
  const candidates = pairwise && spec.filter
    ? bm25Candidates(queries, train, spec.filter.top)
    : null;
  const scoredTrain = candidates
    ? [...new Set(candidates.flatMap((c) => [...c]))].sort((a, b) => a - b)
    : train.map((_, i) => i);
  return { factors, loaded, train, queries, spec, factorSet, candidates, scoredTrain, pairwise };
}

/** Builds an influence-scores job (influence functions) from its stored input (GPU). */
export async function scoresJob(
  store: Store,
  gpu: GpuHandle,
  input: ScoresJobInput,
  id: string,
): Promise<JobHandler> {
  const runtime = requireRuntime(gpu, GPU_NEED);
  const { loaded, train, queries, spec, factorSet, candidates, scoredTrain, pairwise } =
    await planScores(store, input.request);
  return async (ctx) => {
    const started = performance.now();
    const trainScored = scoredTrain.map((i) => train[i]);
    const totalTokens = trainScored.reduce((n, s) => n + s.tokens.length, 0) +
      queries.reduce((n, s) => n + s.tokens.length, 0);
    const result = await computeScores({
      runtime,
      params: loaded.params,
      factors: factorSet,
      train: trainScored,
      queries,
      mode: spec.mode,
      damping: spec.damping,
      queryRank: spec.queryRank,
      perToken: spec.perToken,
      batchSize: spec.batchSize,
      signal: ctx.signal,
      onProgress: (p) => {
        const { perSecond, etaSeconds } = rate(started, p.tokens, totalTokens);
        ctx.progress({
          phase: p.phase,
          step: p.done,
          total: p.total,
          fraction: Math.min(p.tokens / Math.max(totalTokens, 1), 0.99),
          throughput: perSecond,
          throughputUnit: "tokens",
          etaSeconds,
          message: `${p.phase}: ${p.done}/${p.total}`,
        });
      },
    }).catch((e) => {
      if (e instanceof QueriesTooLargeError) {
        throw new InvalidInputError(e.message, { field: "queries" }, "too_many_queries");
      }
      throw e;
    });
    ctx.signal.throwIfAborted();
    const tensors = scoreTensors({
      result,
      scoredTrain,
      trainCount: train.length,
      candidates,
      trainLengths: train.map((s) => s.tokens.length),
      keepModules: spec.perModule,
    });
    const summary: ScoresSummary = {
      modules: result.modules,
      damping: result.damping,
      ranks: result.ranks,
      scoredPairs: candidates
        ? candidates.reduce((n, c) => n + c.size, 0)
        : (pairwise ? queries.length : 1) * train.length,
      seconds: (performance.now() - started) / 1000,
    };
    await storeInfluenceResult(store, "scores", id, {
      tensors,
      metadata: { kind: "influence-scores" },
      summary,
    });
    return { scores: id, seconds: summary.seconds };
  };
}

// ---- reading ---------------------------------------------------------------------------------

/** 404 when unknown. */
export function getScores(store: Store, id: string): ScoresRecord {
  const record = store.get(INFLUENCE).get<ScoresSpec, ScoresSummary>("scores", id);
  if (!record) throw new NotFoundError(`influence scores ${id}`, { field: "id", id });
  return record;
}

export function describeScores(record: ScoresRecord) {
  const { spec, summary } = record;
  return {
    id: record.id,
    model: record.model,
    factors: spec.factors,
    method: spec.method ?? "influence",
    tracin: spec.tracin ?? null,
    gradients: spec.gradients ?? null,
    warnings: spec.warnings ?? [],
    status: record.status,
    error: record.error,
    job: record.job,
    settings: {
      mode: spec.mode,
      damping: spec.damping,
      queryRank: spec.queryRank,
      filter: spec.filter,
      perModule: spec.perModule,
      perToken: spec.perToken,
      batchSize: spec.batchSize,
    },
    queries: { dataset: spec.queries.dataset, count: spec.queries.ids.length },
    train: { dataset: spec.train.dataset, count: spec.train.ids.length },
    shape: spec.mode === "pairwise"
      ? [spec.queries.ids.length, spec.train.ids.length]
      : [spec.train.ids.length],
    modules: summary?.modules ?? null,
    damping: summary?.damping ?? null,
    ranks: summary?.ranks ?? null,
    scoredPairs: summary?.scoredPairs ?? null,
    seconds: summary?.seconds ?? null,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
  };
}

export function listScores(store: Store, limit: number, offset: number) {
  const { items, total } = store.get(INFLUENCE).list<ScoresSpec, ScoresSummary>(
    "scores",
    limit,
    offset,
  );
  return { scores: items.map(describeScores), total, limit, offset };
}

export async function deleteScores(deps: InfluenceDeps, id: string): Promise<void> {
  await deleteInfluenceRecord(deps, getScores(deps.store, id));
}

/** A ready score set's file; 409 while it is computed or when it failed. */
async function readyFile(
  store: Store,
  id: string,
): Promise<{ record: ScoresRecord; file: ScoreFile }> {
  const record = getScores(store, id);
  if (record.status !== "ready") {
    throw new ConflictError(
      `score set ${id} is ${record.status}${record.error ? `: ${record.error}` : ""}`,
      { id, status: record.status, job: record.job },
      "scores_not_ready",
    );
  }
  return { record, file: new ScoreFile(await store.tensors.get(record.tensor!)) };
}

function indexOf(ids: readonly string[], id: string, field: string): number {
  const i = ids.indexOf(id);
  if (i < 0) throw new NotFoundError(`${field} "${id}" in this score set`, { field, id });
  return i;
}

const orNull = (v: number) => (Number.isNaN(v) ? null : v);

/** The whole matrix (or one module's), JSON or safetensors. */
export async function scoreMatrix(store: Store, id: string, module?: string) {
  const { record, file } = await readyFile(store, id);
  const name = module === undefined ? "scores" : `module.${module}`;
  if (module !== undefined && !file.has(name)) {
    if (!record.summary!.modules.includes(module)) {
      throw new NotFoundError(`module "${module}" in this score set`, { field: "module", module });
    }
    throw new ConflictError(
      "per-module scores were not kept: compute the score set with perModule: true",
      { field: "module" },
      "per_module_not_computed",
    );
  }
  const { shape, data } = file.tensor(name);
  const { spec } = record;
  const safetensors = () =>
    encodeSafetensors({ scores: { shape, data } }, {
      queries: JSON.stringify(spec.queries.ids),
      train: JSON.stringify(spec.train.ids),
      unscored: "NaN",
    });
  if (spec.mode === "self") {
    return { json: { train: spec.train.ids, scores: Array.from(data, orNull) }, safetensors };
  }
  const M = spec.train.ids.length;
  const rows = spec.queries.ids.map((_, q) =>
    Array.from(data.subarray(q * M, (q + 1) * M), orNull)
  );
  return { json: { queries: spec.queries.ids, train: spec.train.ids, scores: rows }, safetensors };
}

async function trainTexts(store: Store, spec: ScoresSpec, ids: string[]) {
  const examples = await loadDatasetExamples(store, spec.train.dataset, ids);
  return new Map(examples.map((e) => [e.id, e]));
}

/** The k most helpful (largest) and most harmful (smallest) training examples for a query. */
export async function topScores(store: Store, id: string, query: string, k: number) {
  const { record, file } = await readyFile(store, id);
  const { spec } = record;
  if (spec.mode !== "pairwise") {
    throw new ConflictError("a self-influence score set has no queries", { field: "query" });
  }
  const q = indexOf(spec.queries.ids, query, "query");
  const M = spec.train.ids.length;
  const row = file.tensor("scores").data.subarray(q * M, (q + 1) * M);
  const scored = [...row.keys()].filter((m) => !Number.isNaN(row[m]));
  scored.sort((a, b) => row[b] - row[a] || a - b);
  const helpful = scored.slice(0, k).filter((m) => row[m] > 0);
  const harmful = scored.slice().reverse().slice(0, k).filter((m) => row[m] < 0);
  const texts = await trainTexts(
    store,
    spec,
    [...helpful, ...harmful].map((m) => spec.train.ids[m]),
  );
  const entry = (m: number) => ({
    id: spec.train.ids[m],
    score: row[m],
    example: texts.get(spec.train.ids[m]),
  });
  return { query, helpful: helpful.map(entry), harmful: harmful.map(entry) };
}

/** Per-module terms of one pair; they sum to its score. */
export async function pairModules(store: Store, id: string, query: string, train: string) {
  const { record, file } = await readyFile(store, id);
  const { spec, summary } = record;
  if (spec.mode !== "pairwise") {
    throw new ConflictError("a self-influence score set has no queries", { field: "query" });
  }
  if (!spec.perModule) {
    throw new ConflictError(
      "per-module scores were not kept: compute the score set with perModule: true",
      { field: "perModule" },
      "per_module_not_computed",
    );
  }
  const q = indexOf(spec.queries.ids, query, "query");
  const m = indexOf(spec.train.ids, train, "train");
  const at = q * spec.train.ids.length + m;
  const total = file.tensor("scores").data[at];
  if (Number.isNaN(total)) {
    throw new ConflictError("this pair was not scored (the filter skipped it)", { query, train });
  }
  const modules = summary!.modules.map((name) => ({
    module: name,
    score: file.tensor(`module.${name}`).data[at],
  }));
  return { query, train, modules, total };
}

function tokenText(tokenizer: TextTokenizer, id: number): string {
  const decode = (tokenizer as TextTokenizer & { decode?: (ids: number[]) => string }).decode;
  return decode ? decode([id]) : decodeBytes([id]);
}

/** Per-token scores of one pair: one per input position of the training example. */
export async function pairTokens(store: Store, id: string, query: string, train: string) {
  const { record, file } = await readyFile(store, id);
  const { spec } = record;
  if (spec.mode !== "pairwise") {
    throw new ConflictError("a self-influence score set has no queries", { field: "query" });
  }
  if (!spec.perToken) {
    throw new ConflictError(
      "per-token scores were not kept: compute the score set with perToken: true",
      { field: "perToken" },
      "per_token_not_computed",
    );
  }
  const q = indexOf(spec.queries.ids, query, "query");
  const m = indexOf(spec.train.ids, train, "train");
  const M = spec.train.ids.length;
  const total = file.tensor("scores").data[q * M + m];
  if (Number.isNaN(total)) {
    throw new ConflictError("this pair was not scored (the filter skipped it)", { query, train });
  }
  const tokens = file.tensor("tokens");
  const T = tokens.shape[2];
  const length = file.tensor("train_lengths").data[m];
  const loaded = await resolveWeights(store, requestOfKey(record.model));
  const [example] = await loadDatasetExamples(store, spec.train.dataset, [train]);
  const [sequence] = encodeSequences(loaded.tokenizer, [example], Infinity, "train");
  if (sequence.tokens.length !== length) {
    throw new ConflictError("the training example changed since it was scored", { train });
  }
  const scores = tokens.data.subarray((q * M + m) * T, (q * M + m) * T + length);
  return {
    query,
    train,
    tokens: sequence.tokens.map((token, t) => ({
      token,
      text: tokenText(loaded.tokenizer, token),
      score: scores[t],
    })),
    total,
  };
}

/** A ready score set as plain arrays, for other capabilities (simulators, LDS). */
export interface ScoreSetMatrix {
  id: string;
  mode: "pairwise" | "self";
  /** Query ids (rows); empty in self mode. */
  queries: string[];
  /** Training ids (columns), and the dataset they come from. */
  train: string[];
  trainDataset: string;
  /** Pairwise [queries × train] row-major; self [train]. NaN where a filter skipped the pair. */
  scores: Float32Array;
}

/** 404 when unknown, 409 while it is computed or when it failed. */
export async function scoreSetMatrix(store: Store, id: string): Promise<ScoreSetMatrix> {
  const { record, file } = await readyFile(store, id);
  const { spec } = record;
  return {
    id,
    mode: spec.mode,
    queries: spec.queries.ids,
    train: spec.train.ids,
    trainDataset: spec.train.dataset,
    scores: file.tensor("scores").data,
  };
}
