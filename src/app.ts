// The HTTP application, built from its dependencies so tests can call `app.request()` with fakes
// and no server. Middleware order: request id → access log → CORS → body limit → body idle timeout
// → auth → routes.
import { OpenAPIHono } from "@hono/zod-openapi";
import { accessLog } from "./http/access_log.ts";
import { bearerAuth } from "./http/auth.ts";
import { bodyLimit } from "./http/body_limit.ts";
import { StreamTokens } from "./http/stream_tokens.ts";
import { bodyIdleTimeout } from "./http/body_timeout.ts";
import { cors } from "./http/cors.ts";
import { notFound, onError } from "./http/error_handler.ts";
import { requestId } from "./http/request_id.ts";
import type { App, AppDeps, AppEnv, RouteModule } from "./http/types.ts";
import { validationHook } from "./http/validation.ts";
import { ROUTE_MODULES } from "../routes/index.ts";
import { defineJobKinds } from "./job_kinds.ts";

export type { App, AppDeps, RouteModule };

export function createApp(deps: AppDeps, routes: readonly RouteModule[] = ROUTE_MODULES): App {
  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
  app.use("*", requestId(deps.logger));
  app.use("*", accessLog());
  app.use("*", cors(deps.config.corsOrigins));
  app.use("*", bodyLimit(deps.config.maxBodyBytes));
  app.use("*", bodyIdleTimeout(deps.bodyIdleTimeoutMs));
  deps = { ...deps, streamTokens: deps.streamTokens ?? new StreamTokens() };
  app.use(
    "*",
    bearerAuth({
      tokens: deps.config.apiTokens,
      streamTokens: deps.streamTokens!,
      failures: deps.authFailures,
    }),
  );
  app.onError(onError);
  app.notFound(notFound(() => app.routes));
  app.openAPIRegistry.registerComponent("securitySchemes", "bearerAuth", {
    type: "http",
    scheme: "bearer",
    description: "Required on /v1 routes (except GET /v1/device) when API tokens are configured " +
      "(SIMFLUENCE_API_TOKENS, SIMFLUENCE_API_TOKEN): a `read` token for GET routes, event " +
      "streams and stream tokens, a `write` token for the rest. Event streams also accept " +
      "`?stream_token=` from POST …/stream-token.",
  });
  defineJobKinds(deps);
  for (const register of routes) register(app, deps);
  return app;
}
