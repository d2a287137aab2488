// Blobs as files in one folder: the node's own <dataDir>/tensors, or a folder that several nodes
// mount (NFS). A write goes to a temporary name, is fsynced, then renamed over the key, and rename
// within a folder is atomic (NFS included), so a reader sees the whole file or none. Each write
// has its own temporary name (the key, a random writer tag, ".partial"): two nodes writing the
// same key never share a file, and clean-up removes a temporary file only once it is older than
// the caller's cut-off, so it never removes another node's upload in progress.
import { join } from "node:path";
import {
  assertBlobKey,
  type BlobEntry,
  type BlobStore,
  type BlobStoreDescription,
  isBlobKey,
  PARTIAL_SUFFIX,
} from "./blob_store.ts";

async function writeFully(file: Deno.FsFile, bytes: Uint8Array): Promise<void> {
  let written = 0;
  while (written < bytes.byteLength) written += await file.write(bytes.subarray(written));
}

function writerTag(): string {
  return crypto.randomUUID().replaceAll("-", "").slice(0, 16);
}

export class DirectoryBlobStore implements BlobStore {
  /**
   * `shared`: other nodes write to this folder too (SIMFLUENCE_BLOB_URL=file://…); false for the
   * node's own <dataDir>/tensors, where clean-up at open may remove everything unowned at once.
   */
  constructor(readonly dir: string, readonly shared: boolean) {
    Deno.mkdirSync(dir, { recursive: true });
  }

  private path(key: string): string {
    assertBlobKey(key);
    return join(this.dir, key);
  }

  async put(key: string, bytes: Uint8Array): Promise<void> {
    const path = this.path(key);
    const temp = `${path}.${writerTag()}${PARTIAL_SUFFIX}`;
    const file = await Deno.open(temp, { write: true, createNew: true });
    try {
      await writeFully(file, bytes);
      await file.sync();
    } catch (e) {
      // Disk full mid-write: leave nothing, not even the partial file, for this caller's error.
      file.close();
      await removeIfPresent(temp);
      throw e;
    }
    file.close();
    try {
      await Deno.rename(temp, path);
    } catch (e) {
      await removeIfPresent(temp);
      throw e;
    }
    await this.syncDir();
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

  async get(key: string): Promise<Uint8Array | null> {
    try {
      return await Deno.readFile(this.path(key));
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return null;
      throw e;
    }
  }

  async delete(key: string): Promise<void> {
    await removeIfPresent(this.path(key));
  }

  deleteSync(key: string): void {
    removeIfPresentSync(this.path(key));
  }

  async *list(): AsyncIterable<BlobEntry> {
    for await (const entry of Deno.readDir(this.dir)) {
      if (!entry.isFile || !isBlobKey(entry.name)) continue;
      const modified = await mtimeOf(join(this.dir, entry.name));
      if (modified !== null) yield { key: entry.name, lastModified: modified };
    }
  }

  /** `list` without awaiting: for the single-process clean-up inside the synchronous open. */
  listSync(): BlobEntry[] {
    const entries: BlobEntry[] = [];
    for (const entry of Deno.readDirSync(this.dir)) {
      if (!entry.isFile || !isBlobKey(entry.name)) continue;
      try {
        const mtime = Deno.statSync(join(this.dir, entry.name)).mtime;
        entries.push({ key: entry.name, lastModified: mtime?.getTime() ?? 0 });
      } catch (e) {
        if (!(e instanceof Deno.errors.NotFound)) throw e;
      }
    }
    return entries;
  }

  async removeAbandonedUploads(before: number): Promise<number> {
    let removed = 0;
    for await (const entry of Deno.readDir(this.dir)) {
      if (!entry.isFile || !entry.name.endsWith(PARTIAL_SUFFIX)) continue;
      const path = join(this.dir, entry.name);
      const modified = await mtimeOf(path);
      // A writer still writing keeps moving its file's mtime forward.
      if (modified !== null && modified < before && await removeIfPresent(path)) removed++;
    }
    return removed;
  }

  removeAbandonedUploadsSync(before: number): number {
    let removed = 0;
    for (const entry of Deno.readDirSync(this.dir)) {
      if (!entry.isFile || !entry.name.endsWith(PARTIAL_SUFFIX)) continue;
      const path = join(this.dir, entry.name);
      let modified: number;
      try {
        modified = Deno.statSync(path).mtime?.getTime() ?? 0;
      } catch (e) {
        if (e instanceof Deno.errors.NotFound) continue;
        throw e;
      }
      if (modified < before && removeIfPresentSync(path)) removed++;
    }
    return removed;
  }

  describe(): BlobStoreDescription {
    return { kind: "directory", location: this.dir, shared: this.shared };
  }
}

async function mtimeOf(path: string): Promise<number | null> {
  try {
    return (await Deno.stat(path)).mtime?.getTime() ?? 0;
  } catch (e) {
    // Removed meanwhile (another node's clean-up, or a rename of a temporary file).
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
}

async function removeIfPresent(path: string): Promise<boolean> {
  try {
    await Deno.remove(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

function removeIfPresentSync(path: string): boolean {
  try {
    Deno.removeSync(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}
