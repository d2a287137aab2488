// A real S3-protocol server for tests: s3rver (npm) in a child process on 127.0.0.1, behind a
// small gateway in this process. The gateway verifies every request's SigV4 signature and payload
// hash (s3rver only partly checks V4 signatures), records the requests, and can answer PUTs with
// 500 so that a failed upload happens on demand; everything else is s3rver's own S3 behaviour.
import { createHash } from "node:crypto";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { AwsV4Signer } from "aws4fetch";

export const TEST_S3_BUCKET = "simfluence-test";
export const TEST_S3_REGION = "us-east-1";
export const TEST_S3_CREDENTIALS = {
  accessKeyId: "test-access-key",
  secretAccessKey: "test-secret-key",
};

export interface TestS3Server {
  /** http://127.0.0.1:port: give it as SIMFLUENCE_S3_ENDPOINT (path-style addressing). */
  endpoint: string;
  /** Answer every PUT with 500 InternalError while set. */
  failPuts: boolean;
  requests: { method: string; search: string; status: number }[];
  /** Stops the gateway and s3rver and removes s3rver's folder; safe to call twice. */
  stop(): Promise<void>;
}

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

const S3RVER_START_TIMEOUT_MS = 120_000;

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

function s3Error(status: number, code: string, message: string): Response {
  return new Response(
    `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code>` +
      `<Message>${message}</Message></Error>`,
    { status, headers: { "content-type": "application/xml" } },
  );
}

/** Why the request's SigV4 signature is wrong (signed again with the known secret), or null. */
export async function signatureProblem(request: Request, body: Uint8Array): Promise<string | null> {
  const authorization = request.headers.get("authorization") ?? "";
  const m = authorization.match(
    /^AWS4-HMAC-SHA256 Credential=([^/]+)\/\d{8}\/([^/]+)\/s3\/aws4_request, SignedHeaders=([^,]+), Signature=[0-9a-f]{64}$/,
  );
  if (!m) return "no SigV4 Authorization header";
  const [, keyId, region, signedHeaders] = m;
  if (keyId !== TEST_S3_CREDENTIALS.accessKeyId) return "unknown access key";
  if (region !== TEST_S3_REGION) return "wrong region";
  const datetime = request.headers.get("x-amz-date");
  if (!datetime) return "no x-amz-date";
  const headers = new Headers();
  for (const name of signedHeaders.split(";")) {
    if (name !== "host") headers.set(name, request.headers.get(name) ?? "");
  }
  const expected = await new AwsV4Signer({
    url: request.url,
    method: request.method,
    headers,
    ...TEST_S3_CREDENTIALS,
    service: "s3",
    region: TEST_S3_REGION,
    datetime,
  }).sign();
  if (expected.headers.get("authorization") !== authorization) return "signature does not match";
  const payload = request.headers.get("x-amz-content-sha256");
  if (request.method === "PUT" && payload !== sha256(body)) return "payload hash does not match";
  return null;
}

async function startS3rver(
  directory: string,
): Promise<{ port: number; process: Deno.ChildProcess }> {
  const process = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-all",
      "--unsafe-proto",
      `--config=${join(ROOT, "deno.json")}`,
      join(ROOT, "tests", "helpers", "s3rver_main.ts"),
      directory,
      TEST_S3_BUCKET,
    ],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = process.stdout.pipeThrough(new TextDecoderStream()).getReader();
  // The first run may fetch s3rver's npm packages into Deno's cache: allow for that, not forever.
  const timer = setTimeout(() => process.kill("SIGKILL"), S3RVER_START_TIMEOUT_MS);
  let text = "";
  try {
    while (!text.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) {
        await process.status;
        throw new Error(`s3rver exited before listening (or took over 120 s): ${text}`);
      }
      text += value;
    }
  } finally {
    clearTimeout(timer);
  }
  reader.releaseLock();
  // Nothing more is printed; drain so the pipe never fills.
  process.stdout.cancel().catch(() => {});
  return { port: JSON.parse(text.split("\n")[0]).port, process };
}

export async function startTestS3Server(): Promise<TestS3Server> {
  const directory = await Deno.makeTempDir({ prefix: "simfluence-s3rver-" });
  const s3rver = await startS3rver(directory);
  let stopped = false;
  const gateway: TestS3Server = {
    endpoint: "",
    failPuts: false,
    requests: [],
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await server.shutdown();
      await s3rver.process.stdin.close();
      await s3rver.process.status;
      await Deno.remove(directory, { recursive: true });
    },
  };
  const answer = async (request: Request): Promise<Response> => {
    const body = new Uint8Array(await request.arrayBuffer());
    const problem = await signatureProblem(request, body);
    if (problem) return s3Error(403, "SignatureDoesNotMatch", problem);
    if (request.method === "PUT" && gateway.failPuts) {
      return s3Error(500, "InternalError", "injected by the test");
    }
    const url = new URL(request.url);
    const upstream = await fetch(`http://127.0.0.1:${s3rver.port}${url.pathname}${url.search}`, {
      method: request.method,
      body: request.method === "PUT" ? body : undefined,
      headers: request.method === "PUT" ? { "content-type": "application/octet-stream" } : {},
    });
    const content = await upstream.arrayBuffer();
    return new Response(upstream.status === 204 ? null : content, {
      status: upstream.status,
      headers: { "content-type": upstream.headers.get("content-type") ?? "application/xml" },
    });
  };
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (r) => {
    const response = await answer(r);
    gateway.requests.push({
      method: r.method,
      search: new URL(r.url).search,
      status: response.status,
    });
    return response;
  });
  gateway.endpoint = `http://127.0.0.1:${server.addr.port}`;
  return gateway;
}
