// The influence API's request bodies, with their defaults (each default lives here, once).
import { z } from "@hono/zod-openapi";
import { GradientScoresRequestSchema } from "../projection/schemas.ts";
import { FISHERS, STRATEGIES } from "./factors/factor_set.ts";

const Id = z.string().min(1).max(256);
const Ids = z.array(Id).min(1).max(1_000_000);

export const FactorsRequestSchema = z.object({
  model: Id.optional().openapi({
    description: "A stored model (GPT-2 architecture); or give `run` and `step`",
  }),
  run: Id.optional().openapi({
    description: "A recorded training run whose checkpoint to fit on (with `step`)",
  }),
  step: z.number().int().min(0).optional().openapi({
    description: "The checkpoint's step (GET /v1/runs/{id}/checkpoints lists them)",
  }),
  dataset: Id.openapi({ description: "The training examples' dataset" }),
  ids: Ids.optional().openapi({ description: "Training examples; default: every example" }),
  strategy: z.enum(STRATEGIES).default("ekfac").openapi({
    description: "ekfac (eigenvalue-corrected KFAC), kfac, diagonal Fisher, or identity",
  }),
  modules: z.union([z.enum(["mlp", "all"]), z.array(Id).min(1).max(10_000)]).default("mlp")
    .openapi({
      description: '"mlp": h.{i}.mlp.c_fc and h.{i}.mlp.c_proj; "all" adds h.{i}.attn.c_attn ' +
        "and h.{i}.attn.c_proj; or a list of those Hugging Face module names",
    }),
  fisher: z.enum(FISHERS).default("true").openapi({
    description: '"true": labels sampled from the model (seeded); "empirical": the data\'s',
  }),
  seed: z.number().int().min(0).max(2 ** 31 - 1).default(0),
  batchSize: z.number().int().min(1).max(1024).default(8),
}).strict().openapi("InfluenceFactorsRequest");

export type FactorsRequest = z.infer<typeof FactorsRequestSchema>;

const ScoredExample = z.union([
  z.object({ id: Id.optional(), text: z.string().min(1).max(1_000_000) }).strict(),
  z.object({
    id: Id.optional(),
    prompt: z.string().max(1_000_000),
    completion: z.string().min(1).max(1_000_000),
  }).strict(),
]);

const DatasetSelection = z.object({ dataset: Id, ids: Ids.optional() }).strict();

export const ScoresRequestSchema = z.object({
  factors: Id.openapi({ description: "Fitted factors (POST /v1/influence/factors)" }),
  model: Id.optional().openapi({
    description: "Optional check: the model the factors must have been fitted on",
  }),
  run: Id.optional().openapi({
    description: "Optional check, with `step`: the run checkpoint the factors must have been " +
      "fitted on (scores are computed at the factors' weights)",
  }),
  step: z.number().int().min(0).optional().openapi({
    description: "The checkpoint's step, with `run`",
  }),
  queries: z.union([
    DatasetSelection,
    z.object({ examples: z.array(ScoredExample).min(1).max(10_000) }).strict(),
  ]).optional().openapi({
    description: "The queries (pairwise mode): dataset examples, or examples given inline; " +
      "a query's measurement is its summed loss over its labelled tokens",
  }),
  train: DatasetSelection.optional().openapi({
    description: "Training examples to score; default: the factors' examples",
  }),
  mode: z.enum(["pairwise", "self"]).default("pairwise"),
  damping: z.number().min(0).nullable().default(null).openapi({
    description: "Absolute damping for every module; null: 0.1 × mean eigenvalue, per module",
  }),
  queryRank: z.number().int().min(1).max(65_536).optional().openapi({
    description: "Low-rank query batching: each query's preconditioned gradient kept at this " +
      "rank in every module larger than it; default full rank",
  }),
  filter: z.object({
    method: z.literal("bm25"),
    top: z.number().int().min(1).max(1_000_000),
  }).strict().optional().openapi({
    description: "Score only each query's `top` best BM25 candidates (others are null)",
  }),
  perModule: z.boolean().default(false),
  perToken: z.boolean().default(false),
  batchSize: z.number().int().min(1).max(1024).default(8),
}).strict().openapi("InfluenceScoresRequest");

/** Influence functions from factors (startScores). */
export type ScoresRequest = z.infer<typeof ScoresRequestSchema>;

/**
 * POST /v1/influence/scores's body: a union of the factors form (ScoresRequestSchema, whose shape
 * other request schemas reuse) and scores from stored projected gradients (src/projection/).
 */
export const ScoresBodySchema = z.union([
  ScoresRequestSchema,
  GradientScoresRequestSchema,
], {
  // When neither form parses, report the form the body meant (it names `gradients` or not).
  error: (issue) => {
    if (issue.code !== "invalid_union" || !("errors" in issue)) return undefined;
    const input = issue.input as Record<string, unknown> | undefined;
    const meant = input && typeof input === "object" && "gradients" in input ? 1 : 0;
    const first = issue.errors[meant]?.[0];
    return first ? `${first.path.join(".") || "body"}: ${first.message}` : undefined;
  },
});

export const SearchRequestSchema = z.object({
  query: z.string().min(1).max(1_000_000),
  top: z.number().int().min(1).max(10_000).default(20),
  model: Id.optional().openapi({
    description: "Tokenize with this model's tokenizer; default the byte-level one",
  }),
}).strict().openapi("DatasetSearchRequest");

export type SearchRequest = z.infer<typeof SearchRequestSchema>;
