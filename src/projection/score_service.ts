// Influence score sets from stored projected gradients (POST /v1/influence/scores with
// `gradients`): both sets checked (ready, same model, same projection and parameters) before
// anything is stored, then a job computes the scores in float64 (scores.ts) and stores them like
// every score set, so that the score-set readers (matrix, top) and their consumers work on them.
import { InvalidInputError } from "../errors.ts";
import type { GpuHandle } from "../gpu/handle.ts";
import { rate, storeInfluenceResult, submitInfluenceJob } from "../influence/jobs.ts";
import type { ScoresRecord, ScoresSpec, ScoresSummary } from "../influence/scores/service.ts";
import { INFLUENCE } from "../influence/store.ts";
import type { JobHandler, JobManager } from "../jobs/manager.ts";
import type { Store } from "../store/store.ts";
import type { GradientScoresRequest } from "./schemas.ts";
import { gradientScores } from "./scores.ts";
import { gradientMatrix, readyGradients } from "./service.ts";

export interface GradientScoreDeps {
  store: Store;
  jobs: JobManager;
  gpu: GpuHandle;
}

/** What a gradient-scores job stores: the score set it fills, and the request to plan it again. */
export interface GradientScoresJobInput {
  scores: string;
  gradients: ScoresSpec["gradients"];
  request: GradientScoresRequest;
}

export function startGradientScores(
  deps: GradientScoreDeps,
  request: GradientScoresRequest,
): { scores: ScoresRecord; job: string } {
  const { store } = deps;
  const { train, spec } = planGradientScores(store, request);
  const influence = store.get(INFLUENCE);
  const record = influence.create<ScoresSpec>("scores", { model: train.model, spec });
  const input: GradientScoresJobInput = {
    scores: record.id,
    gradients: spec.gradients,
    request, // also for POST /v1/jobs/:id/resume
  };
  const job = submitInfluenceJob({ jobs: deps.jobs, influence }, "scores", record.id, input);
  return { scores: influence.get<ScoresSpec, ScoresSummary>("scores", record.id)!, job: job.id };
}

/** The one planning of a request, at the request and again in its job (on whichever node). */
function planGradientScores(store: Store, request: GradientScoresRequest) {
  const train = readyGradients(store, request.gradients.train, "gradients.train");
  const queries = readyGradients(store, request.gradients.queries, "gradients.queries");
  const differs = (what: string, a: unknown, b: unknown) => {
    if (JSON.stringify(a) !== JSON.stringify(b)) {
      throw new InvalidInputError(
        `the training and query gradients differ in ${what}: ${JSON.stringify(a)} vs ` +
          `${JSON.stringify(b)}; project both the same way`,
        { field: "gradients", what, train: a, queries: b },
        "gradients_mismatch",
      );
    }
  };
  differs("model", train.model, queries.model);
  differs("projection", train.spec.projection, queries.spec.projection);
  differs("parameters", train.spec.parameters, queries.spec.parameters);
  if (request.method !== "trak" && request.damping !== null) {
    throw new InvalidInputError("`damping` applies only to method trak", { field: "damping" });
  }
  const spec: ScoresSpec = {
    factors: null,
    method: "gradients",
    gradients: { train: train.id, queries: queries.id, method: request.method },
    mode: "pairwise",
    damping: request.damping,
    queryRank: null,
    filter: null,
    perModule: false,
    perToken: false,
    batchSize: 0,
    queries: { dataset: queries.spec.dataset, ids: queries.spec.ids },
    train: { dataset: train.spec.dataset, ids: train.spec.ids },
  };
  return { train, queries, spec };
}

/** Builds an influence-scores job from stored gradients (CPU, float64) from its stored input. */
export function gradientScoresJob(
  store: Store,
  input: GradientScoresJobInput,
  id: string,
): Promise<JobHandler> {
  const request = input.request;
  const { train, queries } = planGradientScores(store, request);
  return Promise.resolve(async (ctx) => {
    const started = performance.now();
    const t = await gradientMatrix(store, train.id, "gradients.train");
    const q = await gradientMatrix(store, queries.id, "gradients.queries");
    ctx.signal.throwIfAborted();
    const { scores, damping } = gradientScores({
      train: t.data,
      queries: q.data,
      M: t.n,
      Q: q.n,
      k: t.dim,
      method: request.method,
      damping: request.damping,
    });
    const pairs = t.n * q.n;
    const { perSecond } = rate(started, pairs, pairs);
    ctx.progress({
      phase: "scores",
      step: pairs,
      total: pairs,
      fraction: 0.99,
      throughput: perSecond,
      throughputUnit: "pairs",
      message: `${pairs} pairs scored`,
    });
    const summary: ScoresSummary = {
      modules: [],
      damping: damping === null ? [] : [damping],
      ranks: [],
      scoredPairs: pairs,
      seconds: (performance.now() - started) / 1000,
    };
    await storeInfluenceResult(store, "scores", id, {
      tensors: { scores: { shape: [q.n, t.n], data: Float32Array.from(scores) } },
      metadata: { kind: "influence-scores", method: `gradients-${request.method}` },
      summary,
    });
    return { scores: id, seconds: summary.seconds };
  });
}
