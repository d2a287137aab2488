// Models: create (GPT-2 random init from a config, or an uploaded checkpoint), list, inspect,
// weights download, delete, and per-example losses on the GPU.
import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { ApiError } from "../src/http/api_error.ts";
import { BEARER_SECURITY, errorResponse, pageOf } from "../src/http/schemas.ts";
import type { RouteModule } from "../src/http/types.ts";
import { createModel, importCheckpoint } from "../src/models/create.ts";
import { modelRecord } from "../src/models/load.ts";
import { MODELS } from "../src/models/model_store.ts";
import {
  deleteModel,
  MAX_SCORED_EXAMPLES,
  modelWeights,
  scoreLosses,
} from "../src/models/service.ts";

const ConfigSchema = z.record(z.string(), z.unknown()).openapi({
  description: "Hugging Face GPT-2 config.json fields",
  example: { vocab_size: 257, n_positions: 64, n_embd: 32, n_layer: 2, n_head: 2 },
});

export const ModelSchema = z.object({
  id: z.string(),
  name: z.string().nullable(),
  config: ConfigSchema,
  tokenizer: z.enum(["byte", "huggingface"]),
  parameters: z.number().int(),
  source: z.enum(["init", "upload"]),
  seed: z.number().int().nullable(),
  paramsTensor: z.string(),
  createdAt: z.string(),
}).openapi("Model");

const CreateModelSchema = z.object({
  config: ConfigSchema,
  seed: z.number().int().min(0).max(0xffffffff).default(0),
  name: z.string().min(1).max(200).optional(),
  tokenizer: z.record(z.string(), z.unknown()).optional().openapi({
    description: "A tokenizer.json object; byte-level (ids 0..256) when absent",
  }),
}).strict().openapi("CreateModel");

const TextExample = z.strictObject({
  id: z.string().min(1).max(200).optional(),
  text: z.string().min(1),
});
const PromptExample = z.strictObject({
  id: z.string().min(1).max(200).optional(),
  prompt: z.string(),
  completion: z.string().min(1),
});

const LossesRequestSchema = z.strictObject({
  examples: z.array(z.union([TextExample, PromptExample])).min(1).max(MAX_SCORED_EXAMPLES)
    .optional(),
  dataset: z.string().min(1).max(200).optional(),
  ids: z.array(z.string()).min(1).max(MAX_SCORED_EXAMPLES).optional().openapi({
    description: "Example ids of `dataset`; all of its examples when absent",
  }),
}).refine((b) => (b.examples === undefined) !== (b.dataset === undefined), {
  message: 'give either "examples" or "dataset"',
}).refine((b) => b.ids === undefined || b.dataset !== undefined, {
  message: '"ids" needs "dataset"',
  path: ["ids"],
}).openapi("LossesRequest");

const ExampleLossSchema = z.object({
  index: z.number().int(),
  id: z.string().nullable(),
  loss: z.number().openapi({ description: "Mean token cross-entropy (nats) of counted tokens" }),
  tokens: z.number().int().openapi({ description: "Counted (loss-masked) tokens" }),
});

const IdParams = z.object({
  id: z.string().min(1).max(200).openapi({
    param: { name: "id", in: "path" },
    description: "The model's id, or its name",
  }),
});

const json = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { "application/json": { schema } },
});

const WEIGHTS_FILE = "model.safetensors";
const CONFIG_FILE = "config.json";
const TOKENIZER_FILE = "tokenizer.json";

const createRoute_ = createRoute({
  method: "post",
  path: "/v1/models",
  summary: "Create a model from a config (random init) or upload a checkpoint",
  description: "JSON `{config, seed, name?, tokenizer?}`: GPT-2 initialisation (HF " +
    "`_init_weights`) from a seed. multipart/form-data with the files `" + WEIGHTS_FILE +
    "`, `" + CONFIG_FILE + "` (optional when the safetensors metadata holds one), optional `" +
    TOKENIZER_FILE + "`, and a text field `name`: a checkpoint, names with or without " +
    "`transformer.`. Unknown config values, shape mismatches and malformed safetensors are 400s " +
    "naming the field or tensor.",
  security: BEARER_SECURITY,
  request: {
    body: {
      required: false,
      content: {
        "application/json": {
          schema: CreateModelSchema,
          example: {
            config: { vocab_size: 257, n_positions: 64, n_embd: 32, n_layer: 2, n_head: 2 },
            seed: 0,
            name: "tiny",
          },
        },
        "multipart/form-data": {
          schema: z.object({
            [WEIGHTS_FILE]: z.unknown().openapi({ type: "string", format: "binary" }),
            [CONFIG_FILE]: z.unknown().optional().openapi({ type: "string", format: "binary" }),
            [TOKENIZER_FILE]: z.unknown().optional().openapi({ type: "string", format: "binary" }),
            name: z.string().optional(),
          }),
        },
      },
    },
  },
  responses: {
    201: json(ModelSchema, "Stored"),
    400: errorResponse("Invalid config, weights or tokenizer; the message names what"),
    401: errorResponse("Missing or wrong API token"),
    409: errorResponse("A model of that name exists (names are unique)"),
    413: errorResponse("Body over SIMFLUENCE_MAX_BODY_MB"),
    415: errorResponse("Unsupported content type"),
  },
});

const listRoute = createRoute({
  method: "get",
  path: "/v1/models",
  summary: "List models, oldest first",
  security: BEARER_SECURITY,
  request: {
    query: z.object({
      limit: z.coerce.number().int().min(1).max(500).default(50),
      offset: z.coerce.number().int().min(0).default(0),
    }),
  },
  responses: {
    200: json(
      pageOf("models", ModelSchema),
      "A page of models",
    ),
    400: errorResponse("Invalid query"),
    401: errorResponse("Missing or wrong API token"),
  },
});

const getRoute = createRoute({
  method: "get",
  path: "/v1/models/{id}",
  summary: "A model's metadata",
  security: BEARER_SECURITY,
  request: { params: IdParams },
  responses: {
    200: json(ModelSchema, "The model"),
    401: errorResponse("Missing or wrong API token"),
    404: errorResponse("No such model"),
  },
});

const weightsRoute = createRoute({
  method: "get",
  path: "/v1/models/{id}/weights",
  summary: "The weights as safetensors (F32, Hugging Face GPT-2 names, config in the metadata)",
  security: BEARER_SECURITY,
  request: { params: IdParams },
  responses: {
    200: {
      description: "model.safetensors",
      content: { "application/octet-stream": { schema: z.string().openapi({ format: "binary" }) } },
    },
    401: errorResponse("Missing or wrong API token"),
    404: errorResponse("No such model"),
  },
});

const deleteRoute = createRoute({
  method: "delete",
  path: "/v1/models/{id}",
  summary: "Delete a model and its weights",
  security: BEARER_SECURITY,
  request: { params: IdParams },
  responses: {
    204: { description: "Deleted" },
    401: errorResponse("Missing or wrong API token"),
    404: errorResponse("No such model"),
  },
});

const lossesRoute = createRoute({
  method: "post",
  path: "/v1/models/{id}/losses",
  summary: "Per-example losses (mean token cross-entropy over loss-masked tokens)",
  description: "Examples inline (`text`, or `prompt` + `completion`: only the completion and " +
    "the end-of-text token after it count) or from a dataset by id. Batched GPU forward passes; " +
    "an example longer than the model's n_positions is a 400 naming it.",
  security: BEARER_SECURITY,
  request: {
    params: IdParams,
    body: {
      required: true,
      content: {
        "application/json": {
          schema: LossesRequestSchema,
          example: { examples: [{ id: "q1", prompt: "add 11 46 =", completion: " 57" }] },
        },
      },
    },
  },
  responses: {
    200: json(
      z.object({ model: z.string(), losses: z.array(ExampleLossSchema) }),
      "Losses in request (or `ids`, or dataset) order",
    ),
    400: errorResponse("Invalid examples, unknown ids, or an example longer than the context"),
    401: errorResponse("Missing or wrong API token"),
    404: errorResponse("No such model or dataset"),
    503: errorResponse("No usable GPU"),
  },
});

function mediaType(c: Context): string {
  return (c.req.header("content-type") ?? "").split(";")[0].trim().toLowerCase();
}

function formFile(form: Record<string, unknown>, field: string): File | string | null {
  const direct = form[field];
  if (direct instanceof File || typeof direct === "string") return direct;
  const byName = Object.values(form).find((v) => v instanceof File && v.name === field);
  return (byName as File | undefined) ?? null;
}

async function formText(form: Record<string, unknown>, field: string): Promise<string | null> {
  const value = formFile(form, field);
  return value instanceof File ? await value.text() : value;
}

export const modelRoutes: RouteModule = (app, deps) => {
  const store = deps.store;

  app.openapi(createRoute_, async (c) => {
    const type = mediaType(c);
    if (type === "application/json") {
      const body = c.req.valid("json") as z.infer<typeof CreateModelSchema>;
      return c.json(await createModel(store, body), 201);
    }
    if (type !== "multipart/form-data") {
      throw ApiError.unsupportedMediaType(type, ["application/json", "multipart/form-data"]);
    }
    let form: Record<string, unknown>;
    try {
      form = await c.req.parseBody();
    } catch (e) {
      throw ApiError.badRequest(`malformed multipart body: ${(e as Error).message}`);
    }
    const weights = formFile(form, WEIGHTS_FILE);
    if (!(weights instanceof File)) {
      throw ApiError.badRequest(`multipart file "${WEIGHTS_FILE}" is missing`, {
        field: WEIGHTS_FILE,
      });
    }
    const name = typeof form.name === "string" && form.name !== "" ? form.name : null;
    const record = await importCheckpoint(store, {
      weights: new Uint8Array(await weights.arrayBuffer()),
      configJson: await formText(form, CONFIG_FILE),
      tokenizerJson: await formText(form, TOKENIZER_FILE),
      name,
    });
    return c.json(record, 201);
  });

  app.openapi(listRoute, (c) => {
    const query = c.req.valid("query");
    return c.json({ ...store.get(MODELS).list(query), ...query }, 200);
  });

  app.openapi(getRoute, (c) => c.json(modelRecord(store, c.req.valid("param").id), 200));

  app.openapi(weightsRoute, async (c) => {
    const weights = await modelWeights(store, c.req.valid("param").id);
    return c.body(weights as Uint8Array<ArrayBuffer>, 200, {
      "content-type": "application/octet-stream",
      "content-disposition": `attachment; filename="${WEIGHTS_FILE}"`,
    });
  });

  app.openapi(deleteRoute, async (c) => {
    await deleteModel(store, c.req.valid("param").id);
    return c.body(null, 204);
  });

  app.openapi(lossesRoute, async (c) => {
    const scored = await scoreLosses(deps, c.req.valid("param").id, c.req.valid("json"));
    return c.json(scored, 200);
  });
};
