// GET /openapi.json: the OpenAPI 3.1 document generated from every route's zod schemas, with
// request schemas that carry defaults written inline so generated clients leave them optional.
import { indexMediaTypes } from "../src/http/media_types.ts";
import { inlineDefaultedRequestSchemas } from "../src/http/openapi_inputs.ts";
import type { RouteModule } from "../src/http/types.ts";

export const SERVICE_VERSION = "0.1.0";

export const openapiRoutes: RouteModule = (app) => {
  // Registered last, so every other route's body media types are known here.
  indexMediaTypes(app);
  app.get("/openapi.json", (c) => {
    const document = inlineDefaultedRequestSchemas(app.getOpenAPI31Document({
      openapi: "3.1.0",
      info: {
        title: "Simfluence Service",
        version: SERVICE_VERSION,
        description:
          "Training-data attribution on WebGPU: Simfluence simulators fitted on training runs, " +
          "influence functions with EK-FAC (or KFAC, diagonal, identity) factors, TracIn-CP over " +
          "checkpoints, and gradient projection (dense or Kronecker) with dot, cosine and TRAK " +
          "scores; GPT-2 models are created, fine-tuned and recorded here. " +
          'Errors are JSON: {"error": {"code", "message", "details", "requestId"}}.',
      },
    }));
    return c.json(document);
  });
};
