// Where tensor files' bytes live: a folder (the node's own, or one shared by several nodes over
// NFS) or an S3-compatible bucket. The database holds each blob's checksum and owner; this layer
// only stores bytes under a key, and promises that a reader sees a blob whole or not at all.
import { DomainError, UnavailableError } from "../../errors.ts";

export interface BlobEntry {
  key: string;
  /** Milliseconds since the epoch, by the storage's clock (the file's mtime, S3's LastModified). */
  lastModified: number;
}

/** What a log line or GET /v1/device may show: never a credential. */
export interface BlobStoreDescription {
  kind: "directory" | "s3";
  /** The folder's path, or s3://bucket/prefix. */
  location: string;
  /** The S3 endpoint (null: AWS's regional one); absent for a folder. */
  endpoint?: string | null;
  /** Whether other nodes may write here too: clean-up then waits out a grace period. */
  shared: boolean;
}

export interface BlobStore {
  /** True when other processes may write to the same place (SIMFLUENCE_BLOB_URL was given). */
  readonly shared: boolean;
  /** Stores `bytes` under `key`; no reader can see the blob before it is complete. */
  put(key: string, bytes: Uint8Array): Promise<void>;
  /** The blob's bytes, or null when there is no blob under `key`. */
  get(key: string): Promise<Uint8Array | null>;
  /** Removes the blob; a key already absent is not an error. */
  delete(key: string): Promise<void>;
  /** Every complete blob (never an upload in progress), in no particular order. */
  list(): AsyncIterable<BlobEntry>;
  /**
   * Removes what interrupted uploads left (temporary files) last modified before `before` (ms
   * since the epoch); returns how many. Stores whose uploads leave nothing return 0.
   */
  removeAbandonedUploads(before: number): Promise<number>;
  describe(): BlobStoreDescription;
}

/** Keys are flat names: no folders, no hidden files, never a temporary file's suffix. */
const KEY = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;
export const PARTIAL_SUFFIX = ".partial";

export function isBlobKey(key: string): boolean {
  return KEY.test(key) && !key.endsWith(PARTIAL_SUFFIX);
}

export function assertBlobKey(key: string): void {
  if (!isBlobKey(key)) {
    throw new TypeError(
      `invalid blob key ${JSON.stringify(key)}: expected [A-Za-z0-9._-], not ending in .partial`,
    );
  }
}

/** The remote store failed or cannot be reached: the client may retry later (503). */
export class BlobStoreUnavailableError extends UnavailableError {
  override name = "BlobStoreUnavailableError";
  constructor(message: string, details: Record<string, unknown> = {}) {
    super(message, details, "blob_store_unavailable");
  }
}

/** A blob larger than the backend accepts in one write (413). */
export class BlobTooLargeError extends DomainError {
  override name = "BlobTooLargeError";
  constructor(bytes: number, limit: number, backend: string) {
    super(
      "too_large",
      "blob_too_large",
      `a tensor file of ${bytes} bytes exceeds the ${limit}-byte limit of one ${backend} upload`,
      { bytes, limit },
    );
  }
}
