// GET /v1/device: the adapter the service computes on, the backend its kernels run on (the
// adapter's WGSL, or CPU ports), and the kernel configuration chosen for it.
// Open without the API token so operators can check the hardware.
import { createRoute, z } from "@hono/zod-openapi";
import { UnavailableError } from "../src/errors.ts";
import { requireDevice } from "../src/gpu/handle.ts";
import { startTuning } from "../src/gpu/tune_service.ts";
import { BEARER_SECURITY, errorResponse } from "../src/http/schemas.ts";
import type { RouteModule } from "../src/http/types.ts";
import { linearAlgebraStatus } from "../src/linalg/select.ts";

const LinearAlgebraSchema = z.object({
  backend: z.enum(["openblas", "typescript"]).openapi({
    description: "openblas: LAPACK/BLAS from OpenBLAS; typescript: the slower built-in routines",
  }),
  library: z.string().nullable().openapi({ description: "The library's path (openblas)" }),
  threads: z.number().int().nullable(),
  unavailableReason: z.string().nullable().openapi({
    description: "Why OpenBLAS could not be opened (typescript)",
  }),
  install: z.string().openapi({ description: "The apt line that installs OpenBLAS" }),
}).openapi("LinearAlgebra", {
  description: "Float64 eigendecompositions, SVDs, Cholesky solves and products on the CPU",
});

const ComputeBackendSchema = z.object({
  name: z.enum(["webgpu", "cpu"]).openapi({
    description:
      "webgpu: the WGSL kernels on the adapter; cpu: their CPU ports, with OpenBLAS sgemm for GEMMs",
  }),
  reason: z.string().openapi({ description: "Why this backend (SIMFLUENCE_BACKEND, adapter)" }),
}).openapi("ComputeBackend", { description: "Where the kernels run" });

const DeviceSchema = z.object({
  vendor: z.string(),
  architecture: z.string(),
  device: z.string(),
  description: z.string(),
  isFallbackAdapter: z.boolean(),
  softwareFallback: z.boolean().openapi({
    description:
      "True on a CPU rasteriser (llvmpipe, lavapipe, SwiftShader): expect low throughput",
  }),
  backend: z.string(),
  limits: z.record(z.string(), z.number()),
  features: z.array(z.string()),
  generation: z.number().int().openapi({ description: "Increments on each device re-acquisition" }),
  kernelConfig: z.record(z.string(), z.unknown()),
  linearAlgebra: LinearAlgebraSchema,
  computeBackend: ComputeBackendSchema.nullable(),
}).openapi("Device");

const route = createRoute({
  method: "get",
  path: "/v1/device",
  summary: "The GPU adapter and kernel configuration",
  responses: {
    200: { description: "The device", content: { "application/json": { schema: DeviceSchema } } },
    503: errorResponse(
      "No usable GPU; the message says how to install one (details.linearAlgebra: the CPU's)",
    ),
  },
});

const SOFTWARE_ADAPTER = /llvmpipe|lavapipe|swiftshader|software/i;

const tune = createRoute({
  method: "post",
  path: "/v1/device/tune",
  summary: "Measure the matmul tile candidates again now (a job), whatever the cache holds",
  description: "At start-up a cached choice is only measured again when its figure is far " +
    "below the best this adapter measured, or a probe of it runs far faster than cached (it " +
    "was tuned on a busy machine). This forces it; the job's result is the new configuration, " +
    "also shown by GET /v1/device.",
  security: BEARER_SECURITY,
  request: {
    body: {
      required: false,
      content: {
        "application/json": {
          schema: z.object({
            quick: z.boolean().default(false).openapi({ description: "Fewer repeats" }),
          }).strict(),
          example: { quick: true },
        },
      },
    },
  },
  responses: {
    202: {
      description: "Tuning started",
      content: { "application/json": { schema: z.object({ job: z.string() }) } },
    },
    400: errorResponse("Invalid request"),
    401: errorResponse("Missing or wrong API token"),
    409: errorResponse("The CPU backend runs its GEMMs on OpenBLAS: no tiles to tune"),
    503: errorResponse("No usable GPU"),
  },
});

export const deviceRoutes: RouteModule = (app, deps) => {
  app.openapi(tune, (c) => {
    const body = c.req.valid("json") as { quick?: boolean } | undefined;
    const job = startTuning(deps, { quick: body?.quick ?? false });
    return c.json({ job: job.id }, 202);
  });

  app.openapi(route, (c) => {
    const linearAlgebra = linearAlgebraStatus();
    let description;
    try {
      description = requireDevice(deps.gpu);
    } catch (e) {
      // The CPU's linear algebra is there without a GPU: say which one in the 503 too.
      if (e instanceof UnavailableError) {
        throw new UnavailableError(e.message, { linearAlgebra }, e.code);
      }
      throw e;
    }
    const softwareFallback = description.isFallbackAdapter ||
      SOFTWARE_ADAPTER.test(
        `${description.vendor} ${description.device} ${description.description}`,
      );
    const runtime = deps.gpu.runtime;
    const computeBackend = runtime
      ? { name: runtime.backend, reason: runtime.backendReason }
      : null;
    return c.json(
      {
        ...description,
        softwareFallback,
        kernelConfig: deps.gpu.kernelConfig(),
        linearAlgebra,
        computeBackend,
      },
      200,
    );
  });
};
