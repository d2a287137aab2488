// Which blob store holds the tensor files, from SIMFLUENCE_BLOB_URL and the usual S3 variables:
//   unset              <dataDir>/tensors, the node's own folder, exactly as before this option;
//   file:///abs/path   a folder, typically one that several nodes mount (NFS);
//   s3://bucket/prefix an S3-compatible bucket; the endpoint from SIMFLUENCE_S3_ENDPOINT or
//                      AWS_ENDPOINT_URL (path-style addressing: MinIO, Ceph, R2…), else AWS's
//                      regional endpoint; AWS_REGION (us-east-1), AWS_ACCESS_KEY_ID,
//                      AWS_SECRET_ACCESS_KEY and optionally AWS_SESSION_TOKEN.
// Parsed once at start-up with every problem named by its variable (src/config.ts).
import { isAbsolute, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { BlobStore } from "./blob_store.ts";
import { DirectoryBlobStore } from "./directory.ts";
import { S3BlobStore, type S3Credentials, type S3Location } from "./s3.ts";

export const BLOB_ENV_VARS = [
  "SIMFLUENCE_BLOB_URL",
  "SIMFLUENCE_BLOB_GRACE_SECONDS",
  "SIMFLUENCE_S3_ENDPOINT",
  "AWS_ENDPOINT_URL",
  "AWS_REGION",
  "AWS_ACCESS_KEY_ID",
  "AWS_SECRET_ACCESS_KEY",
  "AWS_SESSION_TOKEN",
] as const;

export const DEFAULT_BLOB_GRACE_SECONDS = 3600;

export type BlobLocation =
  | { kind: "local" }
  | { kind: "directory"; path: string }
  | { kind: "s3"; s3: S3Location; credentials: S3Credentials };

export interface BlobSettings {
  location: BlobLocation;
  /**
   * How old an unowned blob or tensor row must be before clean-up removes it where other nodes may
   * be writing (a shared folder, S3, PostgreSQL). The node's own folder is cleaned at once.
   */
  graceSeconds: number;
}

export interface BlobProblem {
  variable: string;
  message: string;
}

const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const PREFIX = /^[A-Za-z0-9._/-]*$/;

const value = (env: Record<string, string | undefined>, name: string) => {
  const v = env[name]?.trim();
  return v === undefined || v === "" ? undefined : v;
};

/** The settings, or every problem with them; secrets are never quoted. */
export function parseBlobSettings(
  env: Record<string, string | undefined>,
): { settings: BlobSettings; problems: [] } | { settings: null; problems: BlobProblem[] } {
  const problems: BlobProblem[] = [];
  let graceSeconds = DEFAULT_BLOB_GRACE_SECONDS;
  const grace = value(env, "SIMFLUENCE_BLOB_GRACE_SECONDS");
  if (grace !== undefined) {
    if (!/^\d+$/.test(grace) || Number(grace) > 30 * 86400) {
      problems.push({
        variable: "SIMFLUENCE_BLOB_GRACE_SECONDS",
        message: `expected whole seconds between 0 and ${30 * 86400} (got ${
          JSON.stringify(grace)
        })`,
      });
    } else graceSeconds = Number(grace);
  }
  const location = parseLocation(env, problems);
  if (problems.length > 0 || location === null) return { settings: null, problems };
  return { settings: { location, graceSeconds }, problems: [] };
}

function parseLocation(
  env: Record<string, string | undefined>,
  problems: BlobProblem[],
): BlobLocation | null {
  const raw = value(env, "SIMFLUENCE_BLOB_URL");
  if (raw === undefined) return { kind: "local" };
  const bad = (message: string) => {
    // A URL with user info may carry a secret: never echo it.
    const shown = raw.includes("@") ? "" : ` (got "${raw}")`;
    problems.push({ variable: "SIMFLUENCE_BLOB_URL", message: message + shown });
    return null;
  };
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return bad("expected file:///absolute/path or s3://bucket/prefix");
  }
  if (url.protocol === "file:") {
    if (url.host !== "" || url.search !== "" || url.hash !== "") {
      return bad("expected file:///absolute/path, with no host, query or fragment");
    }
    const path = fileURLToPath(url);
    if (!isAbsolute(path) || path === "/") return bad("expected an absolute folder other than /");
    return { kind: "directory", path: path.replace(/\/+$/, "") };
  }
  if (url.protocol !== "s3:") {
    return bad("expected a file:// or s3:// URL");
  }
  if (url.username !== "" || url.password !== "" || url.port !== "") {
    return bad("credentials go in AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, not the URL");
  }
  if (url.search !== "" || url.hash !== "") return bad("expected no query or fragment");
  const bucket = url.hostname;
  if (!BUCKET.test(bucket)) {
    return bad("the bucket name must be 3-63 characters of a-z, 0-9, '.' and '-'");
  }
  let prefix = decodeURIComponent(url.pathname).replace(/^\/+/, "");
  if (
    !PREFIX.test(prefix) || prefix.split("/").some((s, i, all) => s === "" && i < all.length - 1)
  ) {
    return bad("the prefix may hold only A-Z, a-z, 0-9, '.', '_', '-' and single '/'");
  }
  if (prefix !== "" && !prefix.endsWith("/")) prefix += "/";

  let endpoint: string | null = null;
  for (const variable of ["SIMFLUENCE_S3_ENDPOINT", "AWS_ENDPOINT_URL"]) {
    const given = value(env, variable);
    if (given === undefined) continue;
    let parsed: URL | null = null;
    try {
      parsed = new URL(given);
    } catch {
      // reported below
    }
    if (
      parsed === null || !/^https?:$/.test(parsed.protocol) || parsed.search !== "" ||
      parsed.username !== "" || parsed.password !== ""
    ) {
      problems.push({
        variable,
        message: `expected an http(s) endpoint such as http://127.0.0.1:9000 (got "${given}")`,
      });
      return null;
    }
    endpoint = parsed.origin + parsed.pathname.replace(/\/+$/, "");
    break;
  }
  const region = value(env, "AWS_REGION") ?? "us-east-1";
  if (!/^[a-z0-9-]{2,32}$/.test(region)) {
    problems.push({
      variable: "AWS_REGION",
      message: `expected a region such as eu-west-1 (got "${region}")`,
    });
  }
  const accessKeyId = value(env, "AWS_ACCESS_KEY_ID");
  const secretAccessKey = value(env, "AWS_SECRET_ACCESS_KEY");
  for (
    const [variable, given] of [
      ["AWS_ACCESS_KEY_ID", accessKeyId],
      ["AWS_SECRET_ACCESS_KEY", secretAccessKey],
    ] as const
  ) {
    if (given === undefined) {
      problems.push({ variable, message: "required when SIMFLUENCE_BLOB_URL is an s3:// URL" });
    }
  }
  if (problems.length > 0 || accessKeyId === undefined || secretAccessKey === undefined) {
    return null;
  }
  const sessionToken = value(env, "AWS_SESSION_TOKEN");
  return {
    kind: "s3",
    s3: { bucket, prefix, endpoint, region },
    credentials: { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) },
  };
}

/** The blob store these settings name; `dataDir` gives the default, <dataDir>/tensors. */
export function openBlobStore(settings: BlobSettings, dataDir: string): BlobStore {
  const { location } = settings;
  switch (location.kind) {
    case "local":
      return localBlobStore(dataDir);
    case "directory":
      return new DirectoryBlobStore(location.path, true);
    case "s3":
      return new S3BlobStore(location.s3, location.credentials);
  }
}

/** The node's own folder, as before SIMFLUENCE_BLOB_URL existed. */
export function localBlobStore(dataDir: string): DirectoryBlobStore {
  return new DirectoryBlobStore(join(dataDir, "tensors"), false);
}

/** A folder that other processes may write to: the launcher grants it read and write. */
export function sharedBlobFolder(settings: BlobSettings): string | null {
  return settings.location.kind === "directory" ? settings.location.path : null;
}
