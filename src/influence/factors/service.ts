// Influence factors as a service (POST/GET/DELETE /v1/influence/factors): the request is checked
// in full before anything is stored (the weights: a model or a run's checkpoint; dataset, ids,
// modules, context, GPU), then a job fits the factors and stores them as one checksummed
// safetensors file. Factors of untrained weights carry a warning (./warnings.ts).
import { InvalidInputError, NotFoundError } from "../../errors.ts";
import { type GpuHandle, requireRuntime } from "../../gpu/handle.ts";
import type { JobKind, JobManager } from "../../jobs/manager.ts";
import { resolveWeights, type WeightsSource } from "../../models/weights.ts";
import type { Store } from "../../store/store.ts";
import type { Gpt2Config } from "../../gpt2/config.ts";
import { datasetExamples, encodeSequences } from "../inputs.ts";
import {
  deleteInfluenceRecord,
  influenceRecordKind,
  rate,
  storeInfluenceResult,
  submitInfluenceJob,
} from "../jobs.ts";
import { type TrackedModule, trackedModules } from "../modules.ts";
import type { FactorsRequest } from "../schemas.ts";
import { INFLUENCE, type InfluenceRecord } from "../store.ts";
import { factorTensors, type Fisher, meanOf, type Strategy } from "./factor_set.ts";
import { fitFactors } from "./fit.ts";
import { type InfluenceWarning, weightsWarnings } from "./warnings.ts";

export interface InfluenceDeps {
  store: Store;
  jobs: JobManager;
  gpu: GpuHandle;
}

/** What a factors record keeps of its request. */
export interface FactorsSpec {
  /** The weights fitted on (absent in records older than run checkpoints: the model). */
  source?: WeightsSource;
  /** What a reader of the factors and their scores should know (absent: none). */
  warnings?: InfluenceWarning[];
  dataset: string;
  ids: string[];
  strategy: Strategy;
  modules: string[];
  fisher: Fisher;
  seed: number;
  batchSize: number;
}

export interface FactorsSummary {
  examples: number;
  tokens: number;
  modules: {
    name: string;
    dIn: number;
    dOut: number;
    /** [dOut, dIn + 1]: the gradient matrix, bias last. */
    shape: [number, number];
    meanEigenvalue: number | null;
  }[];
  seconds: number;
}

export type FactorsRecord = InfluenceRecord<FactorsSpec, FactorsSummary>;

/** The tracked modules a request names; 400 listing names the model does not have. */
export function resolveModules(
  config: Gpt2Config,
  selection: FactorsRequest["modules"],
): TrackedModule[] {
  if (selection === "mlp" || selection === "all") return trackedModules(config, selection);
  const all = trackedModules(config, "all");
  const byName = new Map(all.map((m) => [m.name, m]));
  const unknown = selection.filter((name) => !byName.has(name));
  if (unknown.length > 0) {
    throw new InvalidInputError(
      `unknown module name(s): ${unknown.slice(0, 5).join(", ")}; this model's linear modules ` +
        `are h.{0…${config.n_layer - 1}}.{attn.c_attn, attn.c_proj, mlp.c_fc, mlp.c_proj}`,
      { field: "modules", unknown: unknown.slice(0, 20) },
      "unknown_module",
    );
  }
  const wanted = new Set(selection);
  if (wanted.size !== selection.length) {
    throw new InvalidInputError("a module is listed twice", { field: "modules" });
  }
  return all.filter((m) => wanted.has(m.name));
}

const GPU_NEED = {
  what: "influence functions need a GPU",
  noDevice: "no GPU device is available",
};

/** What a factors job stores: the record it fills, and the request to plan it again. */
interface FactorsJobInput {
  factors: string;
  model: string;
  request: FactorsRequest;
}

export async function startFactors(
  deps: InfluenceDeps,
  request: FactorsRequest,
): Promise<{ factors: FactorsRecord; job: string }> {
  requireRuntime(deps.gpu, GPU_NEED);
  const { weights, spec } = await planFactors(deps.store, request);
  const influence = deps.store.get(INFLUENCE);
  const record = influence.create<FactorsSpec>("factors", { model: weights.key, spec });
  const input: FactorsJobInput = { factors: record.id, model: weights.key, request };
  const job = submitInfluenceJob({ jobs: deps.jobs, influence }, "factors", record.id, input);
  return {
    factors: influence.get<FactorsSpec, FactorsSummary>("factors", record.id)!,
    job: job.id,
  };
}

/** The one planning of a request, at the request and again in its job (on whichever node). */
async function planFactors(store: Store, request: FactorsRequest) {
  const weights = await resolveWeights(store, request);
  const config = weights.config;
  const modules = resolveModules(config, request.modules);
  const examples = await datasetExamples(store, request);
  const sequences = encodeSequences(weights.tokenizer, examples, config.n_positions, "ids");
  const spec: FactorsSpec = {
    source: weights.source,
    warnings: weightsWarnings(weights),
    dataset: request.dataset,
    ids: examples.map((e) => e.id),
    strategy: request.strategy,
    modules: modules.map((m) => m.name),
    fisher: request.fisher,
    seed: request.seed,
    batchSize: request.batchSize,
  };
  return { weights, modules, sequences, spec };
}

/** The influence-factors job kind (GPU): fits the factors of its record from the stored request. */
export function factorsKind(deps: Pick<InfluenceDeps, "store" | "gpu">): JobKind<FactorsJobInput> {
  return influenceRecordKind(deps.store, "factors", (input) => input.factors, async (input, id) => {
    const runtime = requireRuntime(deps.gpu, GPU_NEED);
    const { weights, modules, sequences, spec } = await planFactors(deps.store, input.request);
    return async (ctx) => {
      const started = performance.now();
      const set = await fitFactors({
        runtime,
        params: weights.params,
        sequences,
        modules,
        strategy: spec.strategy,
        fisher: spec.fisher,
        seed: spec.seed,
        batchSize: spec.batchSize,
        signal: ctx.signal,
        onProgress: (p) => {
          // Passes weigh as their GPU work: covariances and Λ each a full pass over the data.
          const passes = spec.strategy === "ekfac" ? 2 : 1;
          const before = p.pass === "lambda" && spec.strategy === "ekfac" ? 1 : 0;
          const fraction = p.pass === "eigendecomposition"
            ? 1 / passes
            : (before + p.done / p.total) / passes;
          const { perSecond, etaSeconds } = rate(
            started,
            p.tokens,
            p.tokens / Math.max(fraction, 1e-9),
          );
          ctx.progress({
            phase: p.pass,
            step: p.done,
            total: p.total,
            fraction: Math.min(fraction, 0.99),
            throughput: perSecond,
            throughputUnit: "tokens",
            etaSeconds,
            message: `${p.pass}: ${p.done}/${p.total}`,
          });
        },
      });
      ctx.signal.throwIfAborted();
      const summary: FactorsSummary = {
        examples: sequences.length,
        tokens: sequences.reduce((n, s) => n + s.tokens.length, 0),
        modules: set.modules.map((f) => ({
          name: f.module.name,
          dIn: f.module.dIn,
          dOut: f.module.dOut,
          shape: [f.module.dOut, f.module.cols],
          meanEigenvalue: f.lambda ? meanOf(f.lambda) : null,
        })),
        seconds: (performance.now() - started) / 1000,
      };
      await storeInfluenceResult(deps.store, "factors", id, {
        tensors: factorTensors(set),
        metadata: {
          kind: "influence-factors",
          strategy: set.strategy,
          positions: String(set.positions),
          sequences: String(set.sequences),
        },
        summary,
      });
      return { factors: id, seconds: summary.seconds };
    };
  });
}

/** 404 when unknown. */
export function getFactors(store: Store, id: string): FactorsRecord {
  const record = store.get(INFLUENCE).get<FactorsSpec, FactorsSummary>("factors", id);
  if (!record) throw new NotFoundError(`influence factors ${id}`, { field: "id", id });
  return record;
}

/** The factors as the API shows them (the example ids as a count). */
export function describeFactors(record: FactorsRecord) {
  const { spec, summary } = record;
  return {
    id: record.id,
    model: record.model,
    source: spec.source ?? { model: record.model },
    warnings: spec.warnings ?? [],
    status: record.status,
    error: record.error,
    job: record.job,
    dataset: spec.dataset,
    strategy: spec.strategy,
    fisher: spec.fisher,
    seed: spec.seed,
    batchSize: spec.batchSize,
    examples: spec.ids.length,
    tokens: summary?.tokens ?? null,
    modules: summary?.modules ??
      spec.modules.map((name) => ({
        name,
        dIn: null,
        dOut: null,
        shape: null,
        meanEigenvalue: null,
      })),
    seconds: summary?.seconds ?? null,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
  };
}

export function listFactors(store: Store, limit: number, offset: number) {
  const { items, total } = store.get(INFLUENCE).list<FactorsSpec, FactorsSummary>(
    "factors",
    limit,
    offset,
  );
  return { factors: items.map(describeFactors), total, limit, offset };
}

/** Cancels a running fit, then removes the record and its file; 404 when unknown. */
export async function deleteFactors(deps: InfluenceDeps, id: string): Promise<void> {
  await deleteInfluenceRecord(deps, getFactors(deps.store, id));
}
