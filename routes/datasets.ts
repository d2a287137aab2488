// Datasets: JSONL upload (raw NDJSON or multipart `file`), list (uploaded and built-in), a page of
// examples, delete.
import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { ApiError } from "../src/http/api_error.ts";
import { BEARER_SECURITY, errorResponse, pageOf, pageQuery } from "../src/http/schemas.ts";
import type { RouteModule } from "../src/http/types.ts";
import { datasetPage, datasetRecord, listDatasets } from "../src/datasets/load.ts";
import { deleteDataset, uploadDataset } from "../src/datasets/service.ts";

export const DatasetSchema = z.object({
  id: z.string().openapi({ example: "builtin:skills" }),
  name: z.string(),
  source: z.enum(["uploaded", "builtin"]),
  examples: z.number().int(),
  format: z.enum(["text", "prompt_completion", "mixed"]),
  description: z.string().nullable(),
  createdAt: z.string().nullable(),
}).openapi("Dataset");

export const DatasetExampleSchema = z.union([
  z.object({ id: z.string(), text: z.string() }),
  z.object({ id: z.string(), prompt: z.string(), completion: z.string() }),
]).openapi("DatasetExample");

const IdParams = z.object({
  id: z.string().min(1).max(200).openapi({
    param: { name: "id", in: "path" },
    description: "The dataset's id, or an uploaded dataset's name",
  }),
});

const json = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { "application/json": { schema } },
});

const NDJSON = "application/x-ndjson";
const FILE_FIELD = "file";

const uploadRoute = createRoute({
  method: "post",
  path: "/v1/datasets",
  summary: "Upload a JSONL dataset",
  description: 'One example per line: `{"id"?, "text"}` or `{"id"?, "prompt", ' +
    '"completion"}`. Missing ids become `<name>-<line>`. Send the JSONL as the raw body (`' +
    NDJSON + "`) or as the multipart field `" + FILE_FIELD + "`. Malformed lines, duplicate ids " +
    "and empty datasets are 400s naming the line; nothing is stored unless every line is valid.",
  security: BEARER_SECURITY,
  request: {
    query: z.object({
      name: z.string().trim().min(1).max(200).regex(/^[^\s]+$/, "no whitespace").openapi({
        example: "my-data",
      }),
    }),
    body: {
      required: false,
      content: {
        [NDJSON]: { schema: z.string().openapi({ format: "binary" }) },
        "multipart/form-data": {
          schema: z.object({
            [FILE_FIELD]: z.unknown().openapi({ type: "string", format: "binary" }),
          }),
        },
      },
    },
  },
  responses: {
    201: json(DatasetSchema, "Stored"),
    400: errorResponse("Invalid dataset; the message names the line"),
    401: errorResponse("Missing or wrong API token"),
    409: errorResponse("A dataset of that name exists (names are unique)"),
    413: errorResponse("Body over SIMFLUENCE_MAX_BODY_MB"),
    415: errorResponse("Unsupported content type"),
  },
});

const listRoute = createRoute({
  method: "get",
  path: "/v1/datasets",
  summary: "List built-in and uploaded datasets",
  security: BEARER_SECURITY,
  request: { query: z.object(pageQuery(50, 500)) },
  responses: {
    200: json(
      pageOf("datasets", DatasetSchema),
      "A page: built-ins first, then uploads oldest first",
    ),
    400: errorResponse("Invalid query"),
    401: errorResponse("Missing or wrong API token"),
  },
});

const getRoute = createRoute({
  method: "get",
  path: "/v1/datasets/{id}",
  summary: "A dataset's metadata and a page of its examples",
  security: BEARER_SECURITY,
  request: {
    params: IdParams,
    query: z.object({
      limit: z.coerce.number().int().min(0).max(1000).default(50),
      offset: z.coerce.number().int().min(0).default(0),
    }),
  },
  responses: {
    200: json(
      z.object({
        dataset: DatasetSchema,
        examples: z.array(DatasetExampleSchema),
        total: z.number().int().openapi({ description: "The dataset's number of examples" }),
        limit: z.number().int(),
        offset: z.number().int(),
      }),
      "Metadata and examples [offset, offset + limit)",
    ),
    400: errorResponse("Invalid query"),
    401: errorResponse("Missing or wrong API token"),
    404: errorResponse("No such dataset"),
    503: errorResponse("A built-in dataset's package cannot be read"),
  },
});

const deleteRoute = createRoute({
  method: "delete",
  path: "/v1/datasets/{id}",
  summary: "Delete an uploaded dataset",
  security: BEARER_SECURITY,
  request: { params: IdParams },
  responses: {
    204: { description: "Deleted" },
    400: errorResponse("Built-in datasets cannot be deleted"),
    401: errorResponse("Missing or wrong API token"),
    404: errorResponse("No such dataset"),
  },
});

function mediaType(c: Context): string {
  return (c.req.header("content-type") ?? "").split(";")[0].trim().toLowerCase();
}

async function uploadText(c: Context): Promise<string> {
  const type = mediaType(c);
  if (type === NDJSON || type === "application/ndjson" || type === "application/jsonl") {
    return await c.req.text();
  }
  if (type === "multipart/form-data") {
    let form: Record<string, unknown>;
    try {
      form = await c.req.parseBody();
    } catch (e) {
      throw ApiError.badRequest(`malformed multipart body: ${(e as Error).message}`);
    }
    const file = form[FILE_FIELD];
    if (file instanceof File) return await file.text();
    if (typeof file === "string") return file;
    throw ApiError.badRequest(`multipart field "${FILE_FIELD}" is missing`, { field: FILE_FIELD });
  }
  throw ApiError.unsupportedMediaType(type, [NDJSON, "multipart/form-data"]);
}

export const datasetRoutes: RouteModule = (app, deps) => {
  const store = deps.store;

  app.openapi(uploadRoute, async (c) => {
    const { name } = c.req.valid("query");
    return c.json(uploadDataset(store, name, await uploadText(c)), 201);
  });

  app.openapi(listRoute, (c) => {
    const page = c.req.valid("query");
    return c.json({ ...listDatasets(store, page), ...page }, 200);
  });

  app.openapi(getRoute, async (c) => {
    const { id } = c.req.valid("param");
    const { limit, offset } = c.req.valid("query");
    const dataset = datasetRecord(store, id);
    const examples = await datasetPage(store, id, offset, limit);
    return c.json({ dataset, examples, total: dataset.examples, limit, offset }, 200);
  });

  app.openapi(deleteRoute, (c) => {
    deleteDataset(store, c.req.valid("param").id);
    return c.body(null, 204);
  });
};
