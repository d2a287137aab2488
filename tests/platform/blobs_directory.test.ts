// The folder blob store: a reader never sees part of a blob, writers sharing a folder (nodes on
// one NFS mount) never share a temporary file, and clean-up leaves uploads younger than its
// cut-off alone.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { DirectoryBlobStore } from "../../src/store/blobs/directory.ts";

const sha = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

/** `size` bytes, every one equal to `fill`: a torn read mixes fills or comes up short. */
const filled = (size: number, fill: number) => new Uint8Array(size).fill(fill);

async function withFolder(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "simfluence-blobs-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

Deno.test("put, get, list and delete round trip; absent keys", async () => {
  await withFolder(async (dir) => {
    const blobs = new DirectoryBlobStore(join(dir, "tensors"), false);
    assert.equal(await blobs.get("a.safetensors"), null);
    await blobs.delete("a.safetensors"); // absent: not an error
    const before = Date.now();
    await blobs.put("a.safetensors", new Uint8Array([1, 2, 3]));
    await blobs.put("b.safetensors", new Uint8Array([4]));
    assert.deepEqual(await blobs.get("a.safetensors"), new Uint8Array([1, 2, 3]));
    const listed = (await collect(blobs.list())).sort((x, y) => x.key.localeCompare(y.key));
    assert.deepEqual(listed.map((e) => e.key), ["a.safetensors", "b.safetensors"]);
    for (const e of listed) assert.ok(Math.abs(e.lastModified - before) < 60_000);
    await blobs.delete("a.safetensors");
    assert.equal(await blobs.get("a.safetensors"), null);
    assert.deepEqual((await collect(blobs.list())).map((e) => e.key), ["b.safetensors"]);
    // Keys are flat names: no climbing out of the folder, no temporary files' suffix.
    for (const bad of ["../x", "a/b", ".hidden", "x.partial", ""]) {
      await assert.rejects(blobs.put(bad, new Uint8Array([1])), TypeError, bad);
    }
    assert.equal(blobs.describe().kind, "directory");
    assert.equal(blobs.describe().shared, false);
  });
});

Deno.test("a reader never sees a partial blob while writers replace it", async () => {
  await withFolder(async (dir) => {
    const writer = new DirectoryBlobStore(dir, true);
    const reader = new DirectoryBlobStore(dir, true);
    const size = 4 * 1024 * 1024;
    const versions = new Map<string, number>();
    for (let fill = 1; fill <= 6; fill++) versions.set(sha(filled(size, fill)), fill);
    let writing = true;
    const writes = (async () => {
      try {
        for (let round = 0; round < 3; round++) {
          for (let fill = 1; fill <= 6; fill++) {
            await writer.put("w.safetensors", filled(size, fill));
          }
        }
      } finally {
        writing = false;
      }
    })();
    const seen = new Set<number>();
    let reads = 0;
    let absent = 0;
    while (writing) {
      const bytes = await reader.get("w.safetensors");
      reads++;
      if (bytes === null) {
        if (seen.size > 0) absent++; // before the first rename there is nothing to read yet
        continue;
      }
      const version = versions.get(sha(bytes));
      assert.ok(version !== undefined, `a read returned a torn blob of ${bytes.length} bytes`);
      seen.add(version);
      // A listing during the writes names the key only, never a temporary file.
      for await (const { key } of reader.list()) assert.equal(key, "w.safetensors");
    }
    await writes;
    assert.ok(reads > 3, `the reader raced the writer (${reads} reads)`);
    assert.ok(seen.size >= 2, `several versions were read whole: ${[...seen]}`);
    assert.equal(absent, 0, "once written, the key never disappears while being replaced");
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["w.safetensors"]);
  });
});

Deno.test("two writers on one folder use their own temporary names", async () => {
  await withFolder(async (dir) => {
    const nodeA = new DirectoryBlobStore(dir, true);
    const nodeB = new DirectoryBlobStore(dir, true);
    const size = 2 * 1024 * 1024;
    // The same key at once from both: a shared temporary name would fail one of them (created
    // exclusively) or interleave their bytes.
    const puts: Promise<void>[] = [];
    for (let i = 0; i < 8; i++) {
      puts.push(nodeA.put("same.safetensors", filled(size, 0xa0 + i)));
      puts.push(nodeB.put("same.safetensors", filled(size, 0xb0 + i)));
    }
    await Promise.all(puts);
    const bytes = (await nodeA.get("same.safetensors"))!;
    assert.equal(bytes.length, size);
    assert.ok(bytes.every((b) => b === bytes[0]), "the blob is one writer's, whole");
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["same.safetensors"]);
  });
});

Deno.test("clean-up removes abandoned uploads only past the cut-off", async () => {
  await withFolder(async (dir) => {
    const blobs = new DirectoryBlobStore(dir, true);
    const old = join(dir, "a.safetensors.0123456789abcdef.partial");
    const inFlight = join(dir, "b.safetensors.fedcba9876543210.partial");
    await Deno.writeFile(old, new Uint8Array(10));
    await Deno.writeFile(inFlight, new Uint8Array(10));
    const twoHoursAgo = new Date(Date.now() - 2 * 3600_000);
    await Deno.utime(old, twoHoursAgo, twoHoursAgo);
    const oneHourAgo = Date.now() - 3600_000;
    assert.equal(await blobs.removeAbandonedUploads(oneHourAgo), 1);
    const left = [...Deno.readDirSync(dir)].map((e) => e.name);
    assert.deepEqual(left, ["b.safetensors.fedcba9876543210.partial"]);
    // Never listed as a blob, whatever its age.
    assert.deepEqual(await collect(blobs.list()), []);
  });
});
