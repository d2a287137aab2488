// Liveness (the process answers) and readiness (the store and the GPU can do work).
import { createRoute, z } from "@hono/zod-openapi";
import { ApiError } from "../src/http/api_error.ts";
import { errorResponse as errorSchema } from "../src/http/schemas.ts";
import type { RouteModule } from "../src/http/types.ts";

const CheckSchema = z.object({ ok: z.boolean(), error: z.string().nullable() });

const healthz = createRoute({
  method: "get",
  path: "/healthz",
  summary: "Liveness: the process is up",
  responses: {
    200: {
      description: "Alive",
      content: {
        "application/json": {
          schema: z.object({ status: z.literal("ok"), uptimeSeconds: z.number() }),
        },
      },
    },
  },
});

const readyz = createRoute({
  method: "get",
  path: "/readyz",
  summary: "Readiness: store and GPU are usable",
  responses: {
    200: {
      description: "Ready",
      content: {
        "application/json": {
          schema: z.object({
            status: z.literal("ready"),
            checks: z.object({ store: CheckSchema, gpu: CheckSchema }),
          }),
        },
      },
    },
    503: errorSchema("Not ready; details.checks says which part and why"),
  },
});

const startedAt = performance.now();

export const healthRoutes: RouteModule = (app, deps) => {
  app.openapi(healthz, (c) =>
    c.json({
      status: "ok" as const,
      uptimeSeconds: Math.round((performance.now() - startedAt) / 1000),
    }, 200));

  app.openapi(readyz, (c) => {
    const storeError = deps.store.problem();
    // One process needs its GPU for most work; a cluster's node without one still serves requests
    // and CPU jobs (GPU jobs wait for a worker that has one), so its GPU error is reported only.
    const gpuError = deps.config.databaseUrl === null ? deps.gpu.error : null;
    const checks = {
      store: { ok: storeError === null, error: storeError },
      gpu: { ok: gpuError === null, error: deps.gpu.error },
    };
    if (storeError === null && gpuError === null) {
      return c.json({ status: "ready" as const, checks }, 200);
    }
    const reasons = [storeError && `store: ${storeError}`, gpuError && `gpu: ${gpuError}`]
      .filter(Boolean);
    throw new ApiError(503, "not_ready", reasons.join("; "), { checks });
  });
};
