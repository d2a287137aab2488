// Resuming a job (POST /v1/jobs/:id/resume) means starting it again from the request it was
// started with, which its capability stores in the job's input as `request`. A job stored before
// that, or whose request no longer validates, cannot be resumed: the client sends it again.
import type { z } from "zod";
import type { JobRecord } from "../store/store.ts";
import { NotResumableError } from "./manager.ts";

/** The request stored with `job`, validated again by `schema`; NotResumableError otherwise. */
export function storedRequest<T>(job: JobRecord, schema: z.ZodType<T>): T {
  const request = (job.input as { request?: unknown } | null)?.request;
  const parsed = schema.safeParse(request);
  if (request === undefined || !parsed.success) {
    throw new NotResumableError(job, "its request was not stored with it; send the request again");
  }
  return parsed.data;
}
