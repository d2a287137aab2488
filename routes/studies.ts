// Studies: list them with their run and simulator counts and test examples, inspect one, delete
// one with its runs, simulators and files.
import { createRoute, z } from "@hono/zod-openapi";
import {
  BEARER_SECURITY,
  errorResponse,
  jsonContent,
  pageOf,
  pageQuery,
} from "../src/http/schemas.ts";
import type { RouteModule } from "../src/http/types.ts";
import { deleteStudy, getStudy, listStudies } from "../src/studies/service.ts";

const StudySchema = z.object({
  name: z.string().openapi({ example: "s1" }),
  testExamples: z.array(z.string()).openapi({ description: "Fixed by the study's first run" }),
  runs: z.number().int(),
  simulators: z.number().int(),
  createdAt: z.string(),
  updatedAt: z.string().openapi({ description: "When its last run was stored" }),
}).openapi("Study");

const NameParams = z.object({
  name: z.string().min(1).max(256).openapi({ param: { name: "name", in: "path" } }),
});

const list = createRoute({
  method: "get",
  path: "/v1/studies",
  summary: "List studies, oldest first, with run and simulator counts",
  security: BEARER_SECURITY,
  request: { query: z.object(pageQuery(50, 500)) },
  responses: {
    200: jsonContent(
      pageOf("studies", StudySchema),
      "A page of studies",
    ),
    400: errorResponse("Invalid query"),
    401: errorResponse("Missing or wrong API token"),
  },
});

const get = createRoute({
  method: "get",
  path: "/v1/studies/{name}",
  summary: "A study: its test examples, run and simulator counts",
  security: BEARER_SECURITY,
  request: { params: NameParams },
  responses: {
    200: jsonContent(StudySchema, "The study"),
    401: errorResponse("Missing or wrong API token"),
    404: errorResponse("No such study"),
  },
});

const remove = createRoute({
  method: "delete",
  path: "/v1/studies/{name}",
  summary: "Delete a study with its runs, their checkpoints, its simulators and their files",
  description: "Fits still running are cancelled. The rows go in one transaction; the files " +
    "after it has committed.",
  security: BEARER_SECURITY,
  request: { params: NameParams },
  responses: {
    200: jsonContent(
      z.object({
        study: z.string(),
        runs: z.number().int(),
        simulators: z.number().int(),
        files: z.number().int(),
      }),
      "What was deleted",
    ),
    401: errorResponse("Missing or wrong API token"),
    404: errorResponse("No such study"),
  },
});

export const studyRoutes: RouteModule = (app, deps) => {
  app.openapi(list, (c) => c.json(listStudies(deps.store, c.req.valid("query")), 200));
  app.openapi(get, (c) => c.json(getStudy(deps.store, c.req.valid("param").name), 200));
  app.openapi(remove, async (c) => c.json(await deleteStudy(deps, c.req.valid("param").name), 200));
};
