// Large float arrays live as safetensors files under <dataDir>/tensors; SQLite holds each file's
// SHA-256 so that a file damaged on disk is reported instead of silently feeding bad numbers.
import { createHash } from "node:crypto";
import { join } from "node:path";
import type { SqlDatabase } from "./sql/database.ts";
import {
  decodeSafetensors,
  encodeSafetensors,
  type Safetensors,
  type TensorInput,
} from "./safetensors.ts";
import { NotFoundError } from "../errors.ts";
import { DataCorruptError, type TensorFileInfo, type TensorStore } from "./store.ts";

interface TensorRow {
  id: string;
  file: string;
  sha256: string;
  bytes: number;
  names: string;
  metadata: string;
  created_at: number;
}

const TEMP_SUFFIX = ".partial";

export function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

async function writeFully(file: Deno.FsFile, bytes: Uint8Array): Promise<void> {
  let written = 0;
  while (written < bytes.byteLength) written += await file.write(bytes.subarray(written));
}

export class FileTensorStore implements TensorStore {
  readonly dir: string;

  constructor(private readonly db: SqlDatabase, dataDir: string) {
    this.dir = join(dataDir, "tensors");
    Deno.mkdirSync(this.dir, { recursive: true });
    // Partial files are what a crash between write and rename leaves behind.
    for (const entry of Deno.readDirSync(this.dir)) {
      if (entry.isFile && entry.name.endsWith(TEMP_SUFFIX)) {
        Deno.removeSync(join(this.dir, entry.name));
      }
    }
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
    const path = join(this.dir, fileName);
    const temp = path + TEMP_SUFFIX;
    const sha256 = sha256Hex(bytes);
    const file = await Deno.open(temp, { write: true, createNew: true });
    try {
      await writeFully(file, bytes);
      await file.sync();
    } catch (e) {
      // Disk full mid-write: leave nothing, not even the partial file, for this caller's error.
      file.close();
      await Deno.remove(temp).catch(() => {});
      throw e;
    }
    file.close();
    try {
      await Deno.rename(temp, path);
      await this.syncDir();
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
      await Deno.remove(temp).catch(() => {});
      await Deno.remove(path).catch(() => {});
      throw e;
    }
    return this.info(id)!;
  }

  /** Makes the rename itself durable; not every platform allows opening a directory. */
  private async syncDir(): Promise<void> {
    try {
      const dir = await Deno.open(this.dir, { read: true });
      try {
        await dir.sync();
      } finally {
        dir.close();
      }
    } catch {
      // best effort
    }
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
      bytes: row.bytes,
      names: JSON.parse(row.names),
      metadata: JSON.parse(row.metadata),
      createdAt: new Date(row.created_at).toISOString(),
    };
  }

  async get(id: string): Promise<Safetensors> {
    return decodeSafetensors(await this.bytes(id));
  }

  /** The file as stored, after its checksum is verified (for downloads). */
  async bytes(id: string): Promise<Uint8Array> {
    const row = this.row(id);
    if (!row) throw new NotFoundError(`tensor file ${id}`);
    let bytes: Uint8Array;
    try {
      bytes = await Deno.readFile(join(this.dir, row.file));
    } catch (e) {
      throw new DataCorruptError(`tensor file ${id} cannot be read: ${(e as Error).message}`, {
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
    await Deno.remove(join(this.dir, row.file)).catch((e) => {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    });
    return true;
  }
}
