// Blobs as objects in an S3-compatible bucket (AWS S3, R2, MinIO, Ceph RGW) under a prefix,
// through aws4fetch (SigV4 signing over fetch). One PUT per blob: S3 makes an object visible only
// once its upload completed, so a reader never sees part of one, and the signed payload hash
// (x-amz-content-sha256) makes the server reject a body damaged on the way. A single PUT is
// limited to 5 GiB; our tensor files are far smaller, and a larger one is refused up front with
// a clear error instead of a multipart upload.
import { createHash } from "node:crypto";
import { AwsClient } from "aws4fetch";
import {
  assertBlobKey,
  type BlobEntry,
  type BlobStore,
  type BlobStoreDescription,
  BlobStoreUnavailableError,
  BlobTooLargeError,
  isBlobKey,
} from "./blob_store.ts";

/** S3's limit for one PutObject request. */
export const MAX_SINGLE_PUT_BYTES = 5 * 1024 ** 3;

export interface S3Location {
  bucket: string;
  /** "" or a prefix ending in "/". */
  prefix: string;
  /** Origin of an S3-compatible service, addressed path-style; null: AWS, virtual-hosted. */
  endpoint: string | null;
  region: string;
}

export interface S3Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface S3Options {
  /** Further tries after a 5xx, a 429 or a network error (each request is idempotent). */
  retries?: number;
  /** First back-off in ms, doubled on each retry, with jitter. */
  retryBaseMs?: number;
  /** Keys per ListObjectsV2 page (S3's maximum is 1000). */
  pageSize?: number;
  /** Abandons one request after this long. */
  timeoutMs?: number;
}

const XML_ENTITIES: Record<string, string> = {
  amp: "&",
  lt: "<",
  gt: ">",
  quot: '"',
  apos: "'",
};

function xmlText(s: string): string {
  return s.replace(/&(#x[0-9a-f]+|#\d+|\w+);/gi, (whole, entity: string) => {
    if (entity[0] !== "#") return XML_ENTITIES[entity] ?? whole;
    const code = entity[1] === "x" || entity[1] === "X"
      ? parseInt(entity.slice(2), 16)
      : parseInt(entity.slice(1), 10);
    return String.fromCodePoint(code);
  });
}

function xmlTag(xml: string, tag: string): string | null {
  const m = xml.match(new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`));
  return m ? xmlText(m[1]) : null;
}

/** A key's path with each segment percent-encoded ("/" kept). */
function encodePath(path: string): string {
  return path.split("/").map(encodeURIComponent).join("/");
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class S3BlobStore implements BlobStore {
  readonly shared = true;
  private readonly client: AwsClient;
  private readonly bucketUrl: string;
  private readonly retries: number;
  private readonly retryBaseMs: number;
  private readonly pageSize: number;
  private readonly timeoutMs: number;

  constructor(readonly location: S3Location, credentials: S3Credentials, options: S3Options = {}) {
    this.client = new AwsClient({
      ...credentials,
      service: "s3",
      region: location.region,
      retries: 0, // ours below, which also retries network errors and drains failed bodies
    });
    this.bucketUrl = location.endpoint === null
      ? `https://${location.bucket}.s3.${location.region}.amazonaws.com`
      : `${location.endpoint.replace(/\/+$/, "")}/${encodeURIComponent(location.bucket)}`;
    this.retries = options.retries ?? 5;
    this.retryBaseMs = options.retryBaseMs ?? 100;
    this.pageSize = options.pageSize ?? 1000;
    this.timeoutMs = options.timeoutMs ?? 10 * 60_000;
  }

  private objectUrl(key: string): string {
    assertBlobKey(key);
    return `${this.bucketUrl}/${encodePath(this.location.prefix + key)}`;
  }

  /** One signed request, retried on what may pass (5xx, 429, the network); the final answer. */
  private async request(
    what: string,
    url: string,
    init: RequestInit & { headers?: Record<string, string> },
    accept: (status: number) => boolean,
  ): Promise<Response> {
    let failure = "";
    for (let attempt = 0; attempt <= this.retries; attempt++) {
      if (attempt > 0) await sleep(Math.random() * this.retryBaseMs * 2 ** (attempt - 1));
      let response: Response;
      try {
        response = await this.client.fetch(url, {
          ...init,
          signal: AbortSignal.timeout(this.timeoutMs),
        });
      } catch (e) {
        failure = e instanceof Error ? e.message : String(e);
        continue;
      }
      if (accept(response.status)) return response;
      const body = await response.text().catch(() => "");
      failure = `HTTP ${response.status}${s3ErrorOf(body)}`;
      if (response.status < 500 && response.status !== 429) break;
    }
    throw new BlobStoreUnavailableError(
      `the tensor store ${this.describe().location} failed: ${what}: ${failure}`,
      { store: this.describe().location, operation: what },
    );
  }

  async put(key: string, bytes: Uint8Array): Promise<void> {
    const url = this.objectUrl(key);
    if (bytes.byteLength > MAX_SINGLE_PUT_BYTES) {
      throw new BlobTooLargeError(bytes.byteLength, MAX_SINGLE_PUT_BYTES, "S3 PutObject");
    }
    const sha256 = createHash("sha256").update(bytes).digest("hex");
    const response = await this.request(`PUT ${key}`, url, {
      method: "PUT",
      body: bytes as Uint8Array<ArrayBuffer>,
      headers: {
        "content-type": "application/octet-stream",
        // Signed, so the server checks the body it received against it.
        "x-amz-content-sha256": sha256,
      },
    }, (s) => s >= 200 && s < 300);
    await response.body?.cancel();
  }

  async get(key: string): Promise<Uint8Array | null> {
    const response = await this.request(
      `GET ${key}`,
      this.objectUrl(key),
      { method: "GET" },
      (s) => (s >= 200 && s < 300) || s === 404,
    );
    if (response.status === 404) {
      await response.body?.cancel();
      return null;
    }
    return new Uint8Array(await response.arrayBuffer());
  }

  async delete(key: string): Promise<void> {
    const response = await this.request(
      `DELETE ${key}`,
      this.objectUrl(key),
      { method: "DELETE" },
      (s) => (s >= 200 && s < 300) || s === 404,
    );
    await response.body?.cancel();
  }

  /** ListObjectsV2 under the prefix, page by page with continuation tokens. */
  async *list(): AsyncIterable<BlobEntry> {
    let token: string | null = null;
    do {
      const query = new URLSearchParams({
        "list-type": "2",
        prefix: this.location.prefix,
        "max-keys": String(this.pageSize),
      });
      if (token !== null) query.set("continuation-token", token);
      const response = await this.request(
        "ListObjectsV2",
        `${this.bucketUrl}/?${query}`,
        { method: "GET" },
        (s) => s >= 200 && s < 300,
      );
      const xml = await response.text();
      for (const [, contents] of xml.matchAll(/<Contents>([\s\S]*?)<\/Contents>/g)) {
        const fullKey = xmlTag(contents, "Key");
        const modified = xmlTag(contents, "LastModified");
        if (fullKey === null || !fullKey.startsWith(this.location.prefix)) continue;
        const key = fullKey.slice(this.location.prefix.length);
        // Deeper "folders" under the prefix and foreign names are not ours to judge.
        if (!isBlobKey(key)) continue;
        const lastModified = modified === null ? NaN : Date.parse(modified);
        yield { key, lastModified: Number.isNaN(lastModified) ? 0 : lastModified };
      }
      token = xmlTag(xml, "IsTruncated") === "true" ? xmlTag(xml, "NextContinuationToken") : null;
    } while (token !== null);
  }

  /** A PUT leaves nothing behind when it fails: there is nothing to clean. */
  removeAbandonedUploads(): Promise<number> {
    return Promise.resolve(0);
  }

  describe(): BlobStoreDescription {
    const { bucket, prefix, endpoint } = this.location;
    return {
      kind: "s3",
      location: `s3://${bucket}/${prefix}`,
      endpoint,
      shared: true,
    };
  }
}

/** " (Code: Message)" from an S3 error document, or "" when there is none. */
function s3ErrorOf(body: string): string {
  const code = xmlTag(body, "Code");
  if (code === null) return "";
  const message = xmlTag(body, "Message");
  return ` (${code}${message ? `: ${message.slice(0, 200)}` : ""})`;
}
