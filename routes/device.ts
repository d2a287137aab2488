// GET /v1/device: the adapter the service computes on and the kernel configuration chosen for it.
// Open without the API token so operators can check the hardware.
import { createRoute, z } from "@hono/zod-openapi";
import { requireDevice } from "../src/gpu/handle.ts";
import { errorResponse } from "../src/http/schemas.ts";
import type { RouteModule } from "../src/http/types.ts";

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
}).openapi("Device");

const route = createRoute({
  method: "get",
  path: "/v1/device",
  summary: "The GPU adapter and kernel configuration",
  responses: {
    200: { description: "The device", content: { "application/json": { schema: DeviceSchema } } },
    503: errorResponse("No usable GPU; the message says how to install one"),
  },
});

const SOFTWARE_ADAPTER = /llvmpipe|lavapipe|swiftshader|software/i;

export const deviceRoutes: RouteModule = (app, deps) => {
  app.openapi(route, (c) => {
    const description = requireDevice(deps.gpu);
    const softwareFallback = description.isFallbackAdapter ||
      SOFTWARE_ADAPTER.test(
        `${description.vendor} ${description.device} ${description.description}`,
      );
    return c.json({ ...description, softwareFallback, kernelConfig: deps.gpu.kernelConfig() }, 200);
  });
};
