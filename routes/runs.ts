// Training runs: upload (JSON, streamed NDJSON, GPTfluence import), list, inspect, export, delete;
// the checkpoints of recorded runs.
import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { ApiError } from "../src/http/api_error.ts";
import {
  BEARER_SECURITY,
  errorResponse,
  identifier,
  IdParams,
  jsonContent,
  pageOf,
  pageQuery,
} from "../src/http/schemas.ts";
import type { RouteModule } from "../src/http/types.ts";
import { type RunJson, RunJsonSchema, runToJson } from "../src/runs/json_format.ts";
import { runToNdjson } from "../src/runs/ndjson_format.ts";
import { LOSS_FILE, runToGptfluenceZip, TRAIN_FILE } from "../src/runs/gptfluence_format.ts";
import { readGptfluenceArchive } from "../src/runs/gptfluence_archive.ts";
import { RUNS } from "../src/runs/run_store.ts";
import {
  checkpointBytes,
  requireRun,
  runCheckpoints,
  runTrajectories,
  uploadRun,
} from "../src/runs/service.ts";
import { deleteRunWithDependants } from "../src/simfluence/run_dependants.ts";

export const RunSchema = z.object({
  id: z.string(),
  study: z.string(),
  name: z.string(),
  steps: z.number().int(),
  testExamples: z.number().int(),
  distinctTrainExamples: z.number().int(),
  source: z.string().openapi({ description: "json, ndjson, gptfluence or training" }),
  model: z.string().nullable().openapi({
    description: "The model a recorded run was trained from",
  }),
  dataset: z.string().nullable().openapi({ description: "The dataset of a recorded run" }),
  replayable: z.boolean().openapi({
    description: "Recorded here with what a replay needs: metagradients and mask runs can use it",
  }),
  createdAt: z.string(),
}).openapi("Run");

const NDJSON = "application/x-ndjson";

const createRun = createRoute({
  method: "post",
  path: "/v1/runs",
  summary: "Upload a training run",
  description: "JSON (`application/json`), or the same content as NDJSON (`" + NDJSON + "`): a " +
    "first line `{study, name, testExamples, initialLosses}`, then one line per step " +
    "`{batch, losses, lr?}`. NDJSON is parsed as a stream. Nothing is stored unless the whole run " +
    "is valid.",
  security: BEARER_SECURITY,
  request: {
    body: {
      // Not `required`: that would run the JSON validator on NDJSON bodies too.
      required: false,
      content: {
        "application/json": {
          schema: RunJsonSchema,
          example: {
            study: "s1",
            name: "run-1",
            testExamples: ["q1", "q2"],
            steps: [{ batch: ["e1", "e2"] }, { batch: ["e3", "e1"], lr: 0.001 }],
            losses: [[2.0, 3.0], [1.8, 2.9], [1.7, 2.7]],
          },
        },
        [NDJSON]: { schema: z.string().openapi({ format: "binary" }) },
      },
    },
  },
  responses: {
    201: jsonContent(RunSchema, "Stored"),
    400: errorResponse("Invalid run; the message names the field or line"),
    401: errorResponse("Missing or wrong API token"),
    409: errorResponse("Name already used in the study, or test examples differ from the study's"),
    413: errorResponse(
      "Body over SIMFLUENCE_MAX_BODY_MB, a batch over SIMFLUENCE_MAX_BATCH_SIZE ids, or the " +
        "study past SIMFLUENCE_MAX_TRAIN_IDS_PER_STUDY distinct training ids",
    ),
    415: errorResponse("Unsupported content type"),
  },
});

const importRun = createRoute({
  method: "post",
  path: "/v1/runs/import",
  summary: "Import a run recorded in GPTfluence's layout",
  description: `multipart/form-data with text fields \`study\` and \`name\` and the files ` +
    `\`${TRAIN_FILE}\` (JSONL {step, samples_id}) and \`${LOSS_FILE}\` (JSONL {id, ` +
    "loss_trajectory: [{step, loss}]}), sent under those field names or file names, or instead " +
    "of them the file `archive`: a zip holding both (what `?format=gptfluence` exports; its " +
    "files may inflate to at most SIMFLUENCE_MAX_BODY_MB, 413 beyond). Numeric ids become " +
    "strings.",
  security: BEARER_SECURITY,
  request: {
    body: {
      required: false,
      content: {
        "multipart/form-data": {
          schema: z.object({
            study: z.string(),
            name: z.string(),
            // Required unless `archive` holds them (the handler names the one missing).
            [TRAIN_FILE]: z.unknown().optional().openapi({ type: "string", format: "binary" }),
            [LOSS_FILE]: z.unknown().optional().openapi({ type: "string", format: "binary" }),
            archive: z.unknown().optional().openapi({ type: "string", format: "binary" }),
          }),
        },
      },
    },
  },
  responses: {
    201: jsonContent(RunSchema, "Stored"),
    400: errorResponse("Invalid files; the message names the file and line"),
    401: errorResponse("Missing or wrong API token"),
    409: errorResponse("Name already used in the study, or test examples differ from the study's"),
    413: errorResponse(
      "Body, or the archive's inflated files, over SIMFLUENCE_MAX_BODY_MB; a batch over " +
        "SIMFLUENCE_MAX_BATCH_SIZE ids; the study past SIMFLUENCE_MAX_TRAIN_IDS_PER_STUDY ids",
    ),
  },
});

const listRuns = createRoute({
  method: "get",
  path: "/v1/runs",
  summary: "List runs, oldest first",
  security: BEARER_SECURITY,
  request: {
    query: z.object({
      study: identifier(256).optional(),
      ...pageQuery(50, 500),
    }),
  },
  responses: {
    200: jsonContent(
      pageOf("runs", RunSchema),
      "A page of runs",
    ),
    400: errorResponse("Invalid query"),
    401: errorResponse("Missing or wrong API token"),
  },
});

const getRun = createRoute({
  method: "get",
  path: "/v1/runs/{id}",
  summary: "A run's metadata, or the whole run exported",
  description: "Without `format`: metadata. `format=json` or `ndjson`: the upload formats. " +
    "`format=gptfluence`: a zip holding train_samples_id.json and all_loss_trajectory.out.",
  security: BEARER_SECURITY,
  request: {
    params: IdParams,
    query: z.object({ format: z.enum(["json", "ndjson", "gptfluence"]).optional() }),
  },
  responses: {
    200: {
      description: "Metadata or the exported run",
      content: {
        "application/json": { schema: z.union([RunSchema, RunJsonSchema]) },
        [NDJSON]: { schema: z.string() },
        "application/zip": { schema: z.string().openapi({ format: "binary" }) },
      },
    },
    400: errorResponse("Invalid format"),
    401: errorResponse("Missing or wrong API token"),
    404: errorResponse("No such run"),
  },
});

const getTrajectories = createRoute({
  method: "get",
  path: "/v1/runs/{id}/trajectories",
  summary: "Observed losses of some test examples after every step",
  security: BEARER_SECURITY,
  request: {
    params: IdParams,
    query: z.object({
      tests: z.string().max(100_000).optional().openapi({
        description: "Comma-separated test example ids; all when omitted",
        example: "q1,q2",
      }),
    }),
  },
  responses: {
    200: jsonContent(
      z.object({
        run: z.string(),
        steps: z.number().int(),
        trajectories: z.record(z.string(), z.array(z.number())).openapi({
          description: "test id → losses L_0 … L_T (stored as float32, given as the shortest " +
            "decimal that rounds to the same float32)",
        }),
      }),
      "Trajectories",
    ),
    400: errorResponse("Unknown test example ids"),
    401: errorResponse("Missing or wrong API token"),
    404: errorResponse("No such run"),
  },
});

const listCheckpoints = createRoute({
  method: "get",
  path: "/v1/runs/{id}/checkpoints",
  summary: "The weights checkpoints of a recorded run (POST /v1/training-runs, checkpointEvery)",
  security: BEARER_SECURITY,
  request: { params: IdParams, query: z.object(pageQuery(100, 1000)) },
  responses: {
    200: jsonContent(
      z.object({
        run: z.string(),
        checkpoints: z.array(z.object({
          step: z.number().int().openapi({ description: "Weights after this step (1-based)" }),
          bytes: z.number().int(),
          sha256: z.string(),
        })),
        total: z.number().int(),
        limit: z.number().int(),
        offset: z.number().int(),
      }),
      "A page of checkpoints by step; empty for uploaded runs",
    ),
    400: errorResponse("Invalid query"),
    401: errorResponse("Missing or wrong API token"),
    404: errorResponse("No such run"),
  },
});

const getCheckpoint = createRoute({
  method: "get",
  path: "/v1/runs/{id}/checkpoints/{step}",
  summary: "One checkpoint as safetensors (F32, Hugging Face GPT-2 names, config in the metadata)",
  security: BEARER_SECURITY,
  request: {
    params: z.object({
      id: IdParams.shape.id,
      step: z.coerce.number().int().min(1).max(1e9).openapi({
        param: { name: "step", in: "path" },
        example: 100,
      }),
    }),
  },
  responses: {
    200: {
      description: "model.safetensors of the weights after that step",
      content: { "application/octet-stream": { schema: z.string().openapi({ format: "binary" }) } },
    },
    400: errorResponse("step is not a positive integer"),
    401: errorResponse("Missing or wrong API token"),
    404: errorResponse("No such run, or no checkpoint at that step (the message lists the steps)"),
  },
});

const deleteRunRoute = createRoute({
  method: "delete",
  path: "/v1/runs/{id}",
  summary: "Delete a run, its stored losses and its checkpoints",
  description: "A run that simulators were fitted on is a 409 listing them in " +
    "`details.dependants`, unless `force=true`: then it is deleted and each of them lists it " +
    "in `deletedRuns`.",
  security: BEARER_SECURITY,
  request: {
    params: IdParams,
    query: z.object({
      force: z.enum(["true", "false"]).default("false").openapi({
        description: "Delete even when simulators were fitted on the run (and mark them)",
      }),
    }),
  },
  responses: {
    204: { description: "Deleted" },
    400: errorResponse("Invalid query"),
    401: errorResponse("Missing or wrong API token"),
    404: errorResponse("No such run"),
    409: errorResponse("Simulators were fitted on the run (`details.dependants`)"),
  },
});

function mediaType(c: Context): string {
  return (c.req.header("content-type") ?? "").split(";")[0].trim().toLowerCase();
}

async function formText(form: Record<string, unknown>, field: string): Promise<string> {
  const direct = form[field];
  const byName = Object.values(form).find((v) => v instanceof File && v.name === field);
  const value = direct ?? byName;
  if (value instanceof File) return await value.text();
  if (typeof value === "string") return value;
  throw ApiError.badRequest(`multipart field "${field}" is missing`, { field });
}

export const runRoutes: RouteModule = (app, deps) => {
  const store = deps.store;
  const runs = store.get(RUNS);
  // Every run stored from here on (uploaded or recorded) keeps to the configured limits.
  runs.limits = deps.config.runLimits;

  app.openapi(createRun, async (c) => {
    const type = mediaType(c);
    let record;
    if (type === NDJSON || type === "application/ndjson") {
      record = await uploadRun(store, { format: "ndjson", body: c.req.raw.body });
    } else if (type === "application/json") {
      record = await uploadRun(store, { format: "json", run: c.req.valid("json") as RunJson });
    } else {
      throw ApiError.unsupportedMediaType(type, ["application/json", NDJSON]);
    }
    return c.json(record, 201);
  });

  app.openapi(importRun, async (c) => {
    if (mediaType(c) !== "multipart/form-data") {
      throw ApiError.unsupportedMediaType(mediaType(c), ["multipart/form-data"]);
    }
    let form: Record<string, unknown>;
    try {
      form = await c.req.parseBody();
    } catch (e) {
      throw ApiError.badRequest(`malformed multipart body: ${(e as Error).message}`);
    }
    const study = form.study;
    const name = form.name;
    if (typeof study !== "string" || typeof name !== "string") {
      throw ApiError.badRequest('text fields "study" and "name" are required', {
        field: typeof study !== "string" ? "study" : "name",
      });
    }
    const archive = form.archive;
    const files = archive instanceof File
      ? readGptfluenceArchive(new Uint8Array(await archive.arrayBuffer()), deps.config.maxBodyBytes)
      : { trainSamples: await formText(form, TRAIN_FILE), losses: await formText(form, LOSS_FILE) };
    const record = await uploadRun(store, { format: "gptfluence", study, name, ...files });
    return c.json(record, 201);
  });

  app.openapi(listRuns, (c) => {
    const query = c.req.valid("query");
    return c.json({ ...runs.list(query), limit: query.limit, offset: query.offset }, 200);
  });

  app.openapi(getRun, async (c) => {
    const { id } = c.req.valid("param");
    const { format } = c.req.valid("query");
    if (format === undefined) return c.json(requireRun(store, id), 200);
    const { run, name } = await runs.load(id);
    if (format === "json") return c.json(runToJson(run), 200);
    if (format === "ndjson") {
      return c.body([...runToNdjson(run)].join(""), 200, { "content-type": NDJSON });
    }
    const safeName = name.replace(/[^A-Za-z0-9._-]/g, "_");
    return c.body(runToGptfluenceZip(run) as Uint8Array<ArrayBuffer>, 200, {
      "content-type": "application/zip",
      "content-disposition": `attachment; filename="${safeName}.zip"`,
    });
  });

  app.openapi(getTrajectories, async (c) => {
    const { id } = c.req.valid("param");
    return c.json(await runTrajectories(store, id, c.req.valid("query").tests), 200);
  });

  app.openapi(listCheckpoints, (c) => {
    const { id } = c.req.valid("param");
    const { limit, offset } = c.req.valid("query");
    const all = runCheckpoints(store, id);
    const checkpoints = all.slice(offset, offset + limit);
    return c.json({ run: id, checkpoints, total: all.length, limit, offset }, 200);
  });

  app.openapi(getCheckpoint, async (c) => {
    const { id, step } = c.req.valid("param");
    const bytes = await checkpointBytes(store, id, step);
    return c.body(bytes as Uint8Array<ArrayBuffer>, 200, {
      "content-type": "application/octet-stream",
      "content-disposition": `attachment; filename="checkpoint-${step}.safetensors"`,
    });
  });

  app.openapi(deleteRunRoute, async (c) => {
    const force = c.req.valid("query").force === "true";
    await deleteRunWithDependants(store, c.req.valid("param").id, { force });
    return c.body(null, 204);
  });
};
