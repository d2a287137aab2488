// Metagradients as a service (POST /v1/influence/metagradients): checks the run can be replayed
// and the queries fit the model before anything is stored, then a job replays the run (refusing
// a replay that does not reproduce the recorded losses), reverses it once per query (engine.ts),
// and stores the scores −τ as an influence score set (method "magic"), which the score-set
// readers (GET /v1/influence/scores/:id, /matrix, /top) serve like any other.
import { z } from "@hono/zod-openapi";
import { InvalidInputError } from "../errors.ts";
import { requireRuntime } from "../gpu/handle.ts";
import type { InfluenceDeps } from "../influence/factors/service.ts";
import { measuredQueries } from "../influence/inputs.ts";
import {
  influenceRecordKind,
  rate,
  storeInfluenceResult,
  submitInfluenceJob,
} from "../influence/jobs.ts";
import type { JobKind } from "../jobs/manager.ts";
import type { Store } from "../store/store.ts";
import { ScoresRequestSchema } from "../influence/schemas.ts";
import { scoreTensors } from "../influence/scores/result_file.ts";
import type { ScoresRecord, ScoresSpec, ScoresSummary } from "../influence/scores/service.ts";
import { INFLUENCE } from "../influence/store.ts";
import { computeMetagradients, distinctRowIds, type MetagradientProgress } from "./engine.ts";
import { loadReplayableRun, type ReplayableRun } from "./replay.ts";
import type { GpuRuntime } from "../gpu/runtime.ts";
import { headChunks } from "../gpt2/head_chunks.ts";
import { maxSegmentElements, paramLayout } from "../gpt2/layout.ts";
import { checkTangentSupported } from "../gpt2/tangent.ts";

export const MetagradientRequestSchema = z.object({
  run: z.string().min(1).max(256).openapi({
    description: "A run recorded by POST /v1/training-runs with AdamW: its model, dataset, " +
      "batches, data weights, seed and schedule are replayed",
  }),
  queries: ScoresRequestSchema.shape.queries.unwrap().openapi({
    description: "The queries: dataset examples, or examples given inline; one metagradient per " +
      "query, of its loss summed over its labelled tokens at the run's final weights",
  }),
  checkpointing: z.enum(["sqrt", "log", "all"]).default("sqrt").openapi({
    description: "Which training states the reverse pass keeps (REPLAY): every ⌈√T⌉-th " +
      '(O(√T) states, about one extra forward), "log" (O(log T) states, O(T log T) ' +
      'recomputation) or "all" (T states, none)',
  }),
}).strict().openapi("MetagradientRequest");

export type MetagradientRequest = z.infer<typeof MetagradientRequestSchema>;

const GPU_NEED = { what: "metagradients need a GPU", noDevice: "no GPU device is available" };

/** Queries in one request: each is its own reverse pass through the whole run. */
export const MAX_QUERIES = 64;

/**
 * 400 before anything is stored when the run's model and batches do not fit the tangent pass
 * (one parameter buffer, one logits chunk on this device), instead of a failed job later.
 */
export function checkFitsTangentPass(runtime: GpuRuntime, replay: ReplayableRun): void {
  const maxElements = maxSegmentElements(runtime.device.limits);
  const layout = paramLayout(replay.config, maxElements);
  const rows = Math.max(replay.recipe.rows, replay.recipe.evalRows);
  const chunks = headChunks(layout, rows * replay.recipe.contextLength, maxElements);
  checkTangentSupported(layout, { chunks });
}

/** Work units of a job: the forward, then per query a replay (at most T) and T reverse steps. */
function workOf(p: MetagradientProgress, T: number): { done: number; total: number } {
  const total = T + p.queries * 3 * T;
  if (p.phase === "forward") return { done: p.step, total };
  // Replays and reverse steps each count as a step of the query's 3T (a reverse step ≈ 2).
  return {
    done: T + p.query * 3 * T + (p.phase === "reverse" ? 3 * p.step : 3 * p.step - 2),
    total,
  };
}

/** What a metagradients job stores: the score set it fills, and the request to plan it again. */
interface MetagradientsJobInput {
  scores: string;
  run: string;
  method: "magic";
  request: MetagradientRequest;
}

export async function startMetagradients(
  deps: InfluenceDeps,
  request: MetagradientRequest,
): Promise<{ scores: ScoresRecord; job: string }> {
  const runtime = requireRuntime(deps.gpu, GPU_NEED);
  const { replay, spec } = await planMetagradients(deps.store, runtime, request);
  const influence = deps.store.get(INFLUENCE);
  const record = influence.create<ScoresSpec>("scores", {
    model: replay.model,
    parent: null,
    spec,
  });
  const input: MetagradientsJobInput = {
    scores: record.id,
    run: request.run,
    method: "magic",
    request,
  };
  const job = submitInfluenceJob(
    { jobs: deps.jobs, influence },
    "scores",
    record.id,
    input,
    "influence-metagradients",
  );
  return { scores: influence.get<ScoresSpec, ScoresSummary>("scores", record.id)!, job: job.id };
}

/** The one planning of a request, at the request and again in its job (on whichever node). */
async function planMetagradients(store: Store, runtime: GpuRuntime, request: MetagradientRequest) {
  const replay = await loadReplayableRun(store, request.run);
  const { config, tokenizer } = replay;
  const { queries, source: querySource } = await measuredQueries(
    store,
    request.queries,
    tokenizer,
    config.n_positions,
  );
  if (queries.length > MAX_QUERIES) {
    throw new InvalidInputError(
      `queries: ${queries.length} queries; each costs a reverse pass through the whole run ` +
        `(about 3 recordings of it), so at most ${MAX_QUERIES} go in one request`,
      { field: "queries", queries: queries.length, limit: MAX_QUERIES },
      "too_many_queries",
    );
  }
  checkFitsTangentPass(runtime, replay);
  const T = replay.steps.length;
  const trainIds = distinctRowIds(replay.steps);
  const spec: ScoresSpec = {
    factors: null,
    method: "magic",
    magic: { run: request.run, checkpointing: request.checkpointing, steps: T },
    mode: "pairwise",
    damping: null,
    queryRank: null,
    filter: null,
    perModule: false,
    perToken: false,
    batchSize: replay.recipe.rows,
    queries: querySource,
    train: { dataset: replay.dataset, ids: trainIds },
  };
  return { replay, queries, T, trainIds, spec };
}

/** The influence-metagradients job kind (GPU): replays and reverses the run from the request. */
export function metagradientsKind(
  deps: Pick<InfluenceDeps, "store" | "gpu">,
): JobKind<MetagradientsJobInput> {
  const { store } = deps;
  return influenceRecordKind(store, "scores", (input) => input.scores, async (input, id) => {
    const runtime = requireRuntime(deps.gpu, GPU_NEED);
    const request = input.request;
    const { replay, queries, T, trainIds } = await planMetagradients(store, runtime, request);
    return async (ctx) => {
      const started = performance.now();
      const result = await computeMetagradients(runtime, {
        initial: replay.initial,
        optimizer: replay.recipe.optimizer,
        steps: replay.steps,
        queries: queries.map((q) => ({
          B: 1,
          T: q.tokens.length,
          tokens: q.tokens,
          lossMask: q.lossMask,
        })),
        checkpointing: request.checkpointing,
        probe: replay.probe,
      }, {
        signal: ctx.signal,
        onProgress: (p) => {
          const { done, total } = workOf(p, T);
          const { perSecond, etaSeconds } = rate(started, done, total);
          ctx.progress({
            phase: p.phase,
            step: p.step,
            total: p.steps,
            fraction: Math.min(done / total, 0.99),
            throughput: perSecond,
            throughputUnit: "steps",
            etaSeconds,
            message: `query ${p.query + 1}/${p.queries}, ${p.phase}: step ${p.step}/${p.steps}`,
          });
        },
      });
      ctx.signal.throwIfAborted();
      // The result's train order is first-seen order, as trainIds above.
      const scores = result.tau.map((tau) => -tau);
      const tensors = scoreTensors({
        result: {
          mode: "pairwise",
          modules: [],
          damping: [],
          ranks: [],
          queries: queries.length,
          train: trainIds.length,
          perModule: [],
          total: scores,
        },
        scoredTrain: trainIds.map((_, i) => i),
        trainCount: trainIds.length,
        candidates: null,
        trainLengths: trainIds.map((id) => replay.tokens.get(id) ?? 0),
        keepModules: false,
      });
      const summary: ScoresSummary & { magic: Record<string, unknown> } = {
        modules: [],
        damping: [],
        ranks: [],
        scoredPairs: queries.length * trainIds.length,
        seconds: (performance.now() - started) / 1000,
        magic: {
          queryLoss: result.finalLoss,
          replayError: result.replayError,
          peakStates: result.peakStates,
          forwardSteps: result.forwardSteps,
          reverseSteps: result.reverseSteps,
        },
      };
      await storeInfluenceResult(store, "scores", id, {
        tensors,
        metadata: { kind: "influence-scores", method: "magic" },
        summary,
      });
      return { scores: id, seconds: summary.seconds };
    };
  });
}
