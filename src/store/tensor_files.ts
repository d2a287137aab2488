// Large float arrays live as safetensors files in a blob store (the node's <dataDir>/tensors by
// default, or a shared folder or S3 bucket: blobs/select.ts); the database holds each file's
// SHA-256, so a file damaged at rest is reported instead of silently feeding bad numbers. The blob
// is complete before its `tensor_files` row commits, and a failed upload leaves no row.
import { createHash } from "node:crypto";
import type { SqlDatabase } from "./sql/database.ts";
import {
  decodeSafetensors,
  encodeSafetensors,
  type Safetensors,
  type TensorInput,
} from "./safetensors.ts";
import { DomainError, NotFoundError } from "../errors.ts";
import { DataCorruptError, type TensorFileInfo, type TensorStore } from "./store.ts";
import { type BlobStore, BlobStoreUnavailableError } from "./blobs/blob_store.ts";
import { DirectoryBlobStore } from "./blobs/directory.ts";
import { localBlobStore } from "./blobs/select.ts";

interface TensorRow {
  id: string;
  file: string;
  sha256: string;
  bytes: number | string;
  names: string;
  metadata: string;
  created_at: number | string;
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

export class FileTensorStore implements TensorStore {
  readonly blobs: BlobStore;

  /** `blobs`: where the files go; a data directory's path means its own `tensors` folder. */
  constructor(private readonly db: SqlDatabase, blobs: BlobStore | string) {
    this.blobs = typeof blobs === "string" ? localBlobStore(blobs) : blobs;
  }

  /** The folder of a folder-backed store (tests and tools that look at the files themselves). */
  get dir(): string {
    if (!(this.blobs instanceof DirectoryBlobStore)) {
      throw new TypeError(`the tensor store is not a folder: ${this.blobs.describe().location}`);
    }
    return this.blobs.dir;
  }

  put(tensors: Record<string, TensorInput>, metadata: Record<string, string> = {}) {
    return this.write(encodeSafetensors(tensors, metadata));
  }

  /** Throws SafetensorsError (a 400) for a malformed file before anything is written. */
  putEncoded(bytes: Uint8Array): Promise<TensorFileInfo> {
    return this.write(bytes);
  }

  private async write(bytes: Uint8Array): Promise<TensorFileInfo> {
    const { tensors, metadata } = decodeSafetensors(bytes);
    const id = crypto.randomUUID();
    const fileName = `${id}.safetensors`;
    const sha256 = sha256Hex(bytes);
    // Complete and durable before the row: a row never names a blob that is not all there.
    await this.blobs.put(fileName, bytes);
    try {
      this.db.prepare(
        `INSERT INTO tensor_files (id, file, sha256, bytes, names, metadata, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
      ).run(
        id,
        fileName,
        sha256,
        bytes.byteLength,
        JSON.stringify([...tensors.keys()]),
        JSON.stringify(metadata),
        Date.now(),
      );
    } catch (e) {
      // The blob has no row: remove it now rather than wait for the next clean-up.
      await this.blobs.delete(fileName).catch(() => {});
      throw e;
    }
    return this.info(id)!;
  }

  private row(id: string): TensorRow | undefined {
    return this.db.prepare("SELECT * FROM tensor_files WHERE id = ?").get(id) as
      | TensorRow
      | undefined;
  }

  info(id: string): TensorFileInfo | null {
    const row = this.row(id);
    if (!row) return null;
    return {
      id: row.id,
      sha256: row.sha256,
      // Number(): PostgreSQL's BIGINT may arrive as a string.
      bytes: Number(row.bytes),
      names: JSON.parse(row.names),
      metadata: JSON.parse(row.metadata),
      createdAt: new Date(Number(row.created_at)).toISOString(),
    };
  }

  async get(id: string): Promise<Safetensors> {
    return decodeSafetensors(await this.bytes(id));
  }

  /** The file as stored, after its checksum is verified (for downloads). */
  async bytes(id: string): Promise<Uint8Array> {
    const row = this.row(id);
    if (!row) throw new NotFoundError(`tensor file ${id}`);
    let bytes: Uint8Array | null;
    try {
      bytes = await this.blobs.get(row.file);
    } catch (e) {
      // An unreachable bucket is not corruption: its own error (503) says to retry.
      if (e instanceof DomainError) throw e;
      throw new DataCorruptError(`tensor file ${id} cannot be read: ${(e as Error).message}`, {
        id,
      });
    }
    if (bytes === null) {
      throw new DataCorruptError(`tensor file ${id} cannot be read: it is missing from storage`, {
        id,
      });
    }
    const actual = sha256Hex(bytes);
    if (actual !== row.sha256) {
      throw new DataCorruptError(
        `tensor file ${id} is corrupt: its SHA-256 no longer matches the recorded checksum`,
        { id, expected: row.sha256, actual },
      );
    }
    return bytes;
  }

  async delete(id: string): Promise<boolean> {
    const row = this.row(id);
    if (!row) return false;
    this.db.prepare("DELETE FROM tensor_files WHERE id = ?").run(id);
    try {
      await this.blobs.delete(row.file);
    } catch (e) {
      // The row is gone, so the file is unowned: clean-up reclaims it once the bucket answers.
      if (!(e instanceof BlobStoreUnavailableError)) throw e;
    }
    return true;
  }
}
