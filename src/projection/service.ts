// Projected per-example gradients as a service (POST/GET/DELETE /v1/gradients, the data
// download): the request is checked in full before anything is stored (GPU, model or run
// checkpoint, dataset and ids, context, dim), then a job projects every example's gradient and
// stores the [n, dim] matrix as one checksummed safetensors file.
import { ConflictError, InvalidInputError, NotFoundError } from "../errors.ts";
import { type GpuHandle, requireRuntime } from "../gpu/handle.ts";
import { datasetExamples, encodeSequences } from "../influence/inputs.ts";
import type { JobContext, JobKind, JobManager } from "../jobs/manager.ts";
import type { GpuRuntime } from "../gpu/runtime.ts";
import { resolveWeights, type WeightsSource } from "../models/weights.ts";
import { toFloat32 } from "../store/safetensors.ts";
import type { Store } from "../store/store.ts";
import { projectGradients } from "./engine.ts";
import { checkDim, type ParameterSelection, type ProjectionSpec } from "./math.ts";
import type { GradientsRequest } from "./schemas.ts";
import { GRADIENTS, type GradientsRecord } from "./store.ts";

export interface ProjectionDeps {
  store: Store;
  jobs: JobManager;
  gpu: GpuHandle;
}

export interface GradientsSpec {
  /** Where the weights came from. */
  source: WeightsSource;
  dataset: string;
  ids: string[];
  projection: ProjectionSpec;
  parameters: ParameterSelection;
  batchSize: number;
}

export interface GradientsSummary {
  shape: [number, number];
  tokens: number;
  seconds: number;
}

export type GradientsStoreRecord = GradientsRecord<GradientsSpec, GradientsSummary>;

/** Values one stored set may hold (1 GiB of f32). */
const MAX_ELEMENTS = 2 ** 28;

const GPU_NEED = {
  what: "gradient projection needs a GPU",
  noDevice: "no GPU device is available",
};

/** A checked request: the weights, the encoded examples and the spec the record is stored with. */
interface GradientsPlan {
  weights: Awaited<ReturnType<typeof resolveWeights>>;
  sequences: ReturnType<typeof encodeSequences>;
  spec: GradientsSpec;
}

/** The one planning of a request, at the request and again in its job (on whichever node). */
async function planGradients(store: Store, request: GradientsRequest): Promise<GradientsPlan> {
  const weights = await resolveWeights(store, request);
  const projection: ProjectionSpec = { ...request.projection };
  checkDim(weights.config, projection, request.parameters);
  const examples = await datasetExamples(store, request);
  const sequences = encodeSequences(
    weights.tokenizer,
    examples,
    weights.config.n_positions,
    "dataset",
  );
  if (sequences.length * projection.dim > MAX_ELEMENTS) {
    throw new InvalidInputError(
      `${sequences.length} examples × dim ${projection.dim} exceed the ${MAX_ELEMENTS} values ` +
        "one gradient set holds: choose a smaller dim or fewer ids",
      { field: "projection.dim", dim: projection.dim, examples: sequences.length },
      "too_large",
    );
  }
  const empty = sequences.findIndex((s) => !s.lossMask.slice(1).includes(1));
  if (empty >= 0) {
    throw new InvalidInputError(
      `example "${sequences[empty].id}" has no labelled token, so no gradient`,
      { field: "ids", index: empty, id: sequences[empty].id },
      "nothing_to_project",
    );
  }
  const spec: GradientsSpec = {
    source: weights.source,
    dataset: request.dataset,
    ids: examples.map((e) => e.id),
    projection,
    parameters: request.parameters,
    batchSize: request.batchSize,
  };
  return { weights, sequences, spec };
}

/** What a gradients job stores: the record it fills, and the request to plan it again. */
interface GradientsJobInput {
  gradients: string;
  request: GradientsRequest;
}

export async function startGradients(
  deps: ProjectionDeps,
  request: GradientsRequest,
): Promise<{ gradients: GradientsStoreRecord; job: string }> {
  requireRuntime(deps.gpu, GPU_NEED);
  const { weights, spec } = await planGradients(deps.store, request);
  const gradients = deps.store.get(GRADIENTS);
  const record = gradients.create<GradientsSpec>({ model: weights.key, spec });
  const input: GradientsJobInput = { gradients: record.id, request };
  const job = deps.jobs.submit("gradients", input);
  gradients.setJob(record.id, job.id);
  const unsubscribe = deps.jobs.subscribe(job.id, (event) => {
    if (event.type === "failed" || event.type === "cancelled") {
      gradients.markStopped(record.id, event.type, event.job.error ?? event.type);
    }
    if (event.type !== "progress") unsubscribe?.();
  });
  return { gradients: gradients.get<GradientsSpec, GradientsSummary>(record.id)!, job: job.id };
}

/**
 * The gradients job kind (GPU): plans again from the stored request and fills the record made
 * with it. The record is the job's one output: a re-run once it is ready returns it as stored.
 */
export function gradientsKind(deps: Pick<ProjectionDeps, "store" | "gpu">): JobKind<
  GradientsJobInput
> {
  return {
    needs: "gpu",
    build: async ({ input }) => {
      const gradients = deps.store.get(GRADIENTS);
      const stored = gradients.get<GradientsSpec, GradientsSummary>(input.gradients);
      if (!stored) throw new ConflictError("the gradients were deleted before their job ran");
      if (stored.status === "ready") {
        const done = { gradients: stored.id, seconds: stored.summary?.seconds ?? null };
        return () => Promise.resolve(done);
      }
      try {
        const runtime = requireRuntime(deps.gpu, GPU_NEED);
        const plan = await planGradients(deps.store, input.request);
        return (ctx) => projectAndStore(deps.store, runtime, plan, input.gradients, ctx);
      } catch (e) {
        gradients.markStopped(
          input.gradients,
          "failed",
          e instanceof Error ? e.message : String(e),
        );
        throw e;
      }
    },
  };
}

async function projectAndStore(
  store: Store,
  runtime: GpuRuntime,
  { weights, sequences, spec }: GradientsPlan,
  id: string,
  ctx: JobContext,
) {
  const started = performance.now();
  const total = sequences.reduce((n, s) => n + s.tokens.length, 0);
  let tokens = 0;
  const data = await projectGradients({
    runtime,
    params: weights.params,
    sequences,
    projection: spec.projection,
    parameters: spec.parameters,
    batchSize: spec.batchSize,
    signal: ctx.signal,
    onProgress: (p) => {
      tokens = p.tokens;
      const seconds = Math.max((performance.now() - started) / 1000, 1e-3);
      ctx.progress({
        phase: "project",
        step: p.done,
        total: p.total,
        fraction: Math.min(p.tokens / Math.max(total, 1), 0.99),
        throughput: p.done / seconds,
        throughputUnit: "examples",
        message: `projected ${p.done}/${p.total} examples`,
      });
    },
  });
  ctx.signal.throwIfAborted();
  const summary: GradientsSummary = {
    shape: [sequences.length, spec.projection.dim],
    tokens,
    seconds: (performance.now() - started) / 1000,
  };
  const file = await store.tensors.put(
    { gradients: { shape: summary.shape, data } },
    fileMetadata(id, weights.key, spec),
  );
  const gradients = store.get(GRADIENTS);
  // Not marked, and not ready by another attempt of the same job: deleted meanwhile.
  if (!await gradients.markReady(id, summary, file.id) && gradients.get(id)?.status !== "ready") {
    throw new ConflictError("the gradients were deleted while they were being computed");
  }
  return { gradients: id, seconds: summary.seconds };
}

function fileMetadata(id: string, model: string, spec: GradientsSpec): Record<string, string> {
  return {
    kind: "projected-gradients",
    gradients: id,
    model,
    dataset: spec.dataset,
    ids: JSON.stringify(spec.ids),
    projection: JSON.stringify(spec.projection),
    parameters: spec.parameters,
  };
}

// ---- reading ---------------------------------------------------------------------------------

/** 404 when unknown. */
export function getGradients(store: Store, id: string): GradientsStoreRecord {
  const record = store.get(GRADIENTS).get<GradientsSpec, GradientsSummary>(id);
  if (!record) throw new NotFoundError(`gradients ${id}`, { field: "id", id });
  return record;
}

export function describeGradients(record: GradientsStoreRecord) {
  const { spec, summary } = record;
  return {
    id: record.id,
    status: record.status,
    error: record.error,
    job: record.job,
    model: record.model,
    source: spec.source,
    dataset: spec.dataset,
    ids: spec.ids.length,
    projection: spec.projection,
    parameters: spec.parameters,
    shape: [spec.ids.length, spec.projection.dim],
    tokens: summary?.tokens ?? null,
    seconds: summary?.seconds ?? null,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
  };
}

export function listGradients(store: Store, limit: number, offset: number) {
  const { items, total } = store.get(GRADIENTS).list<GradientsSpec, GradientsSummary>(
    limit,
    offset,
  );
  return { gradients: items.map(describeGradients), total, limit, offset };
}

export async function deleteGradients(deps: ProjectionDeps, id: string): Promise<void> {
  const record = getGradients(deps.store, id);
  if (record.status === "running" && record.job) {
    try {
      deps.jobs.cancel(record.job);
    } catch {
      // Already finished.
    }
  }
  await deps.store.get(GRADIENTS).delete(id);
}

/** Ready gradients, or 409 while they are computed / when they failed. */
export function readyGradients(store: Store, id: string, field = "id"): GradientsStoreRecord {
  const record = store.get(GRADIENTS).get<GradientsSpec, GradientsSummary>(id);
  if (!record) throw new NotFoundError(`gradients ${id}`, { field, id });
  if (record.status !== "ready") {
    throw new ConflictError(
      `gradients ${id} are ${record.status}${record.error ? `: ${record.error}` : ""}`,
      { field, id, status: record.status, job: record.job },
      "gradients_not_ready",
    );
  }
  return record;
}

/** The projected gradients [n, dim] of a ready set, with its example ids. */
export async function gradientMatrix(store: Store, id: string, field = "id") {
  const record = readyGradients(store, id, field);
  const file = await store.tensors.get(record.tensor!);
  const entry = file.tensors.get("gradients");
  if (!entry) throw new Error(`gradients file of ${id} has no "gradients" tensor`);
  return { record, data: toFloat32(entry), n: entry.shape[0], dim: entry.shape[1] };
}

/** The safetensors download as stored (checksum-verified): ids and settings in the metadata. */
export async function gradientsFile(store: Store, id: string): Promise<Uint8Array> {
  return await store.tensors.bytes(readyGradients(store, id).tensor!);
}
