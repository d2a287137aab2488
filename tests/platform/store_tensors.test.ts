import assert from "node:assert/strict";
import { join } from "node:path";
import { toFloat32 } from "../../src/store/safetensors.ts";
import { SqliteStore } from "../../src/store/sqlite.ts";
import { NotFoundError } from "../../src/errors.ts";
import { DataCorruptError } from "../../src/store/store.ts";
import { encodeSafetensors } from "../../src/store/safetensors.ts";
import { STORE_MODULES } from "../../src/store_modules.ts";

Deno.test("tensor files", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "simfluence-tensors-" });
  const store = SqliteStore.open({ dataDir: dir, modules: STORE_MODULES });
  const data = Float32Array.from({ length: 7 * 3 }, (_, i) => Math.sin(i));

  await t.step("put writes a checksummed file and get reads it back", async () => {
    const info = await store.tensors.put({ w: { shape: [7, 3], data } }, { model: "tiny" });
    assert.match(info.sha256, /^[0-9a-f]{64}$/);
    assert.deepEqual(info.names, ["w"]);
    assert.deepEqual(info.metadata, { model: "tiny" });
    const file = join(dir, "tensors", `${info.id}.safetensors`);
    assert.equal((await Deno.stat(file)).size, info.bytes);
    const files = [...Deno.readDirSync(join(dir, "tensors"))].map((e) => e.name);
    assert.deepEqual(files, [`${info.id}.safetensors`], "no temp file left behind");
    const read = await store.tensors.get(info.id);
    assert.deepEqual(toFloat32(read.tensors.get("w")!), data);
  });

  await t.step("a flipped byte on disk is detected", async () => {
    const info = await store.tensors.put({ w: { shape: [7, 3], data } });
    const file = join(dir, "tensors", `${info.id}.safetensors`);
    const bytes = await Deno.readFile(file);
    bytes[bytes.length - 1] ^= 0x01; // a float's low bit: still a valid file
    await Deno.writeFile(file, bytes);
    await assert.rejects(store.tensors.get(info.id), (e: unknown) => {
      assert.ok(e instanceof DataCorruptError);
      assert.match(e.message, /corrupt/);
      assert.equal(e.details.expected, info.sha256);
      assert.notEqual(e.details.actual, info.sha256);
      return true;
    });
  });

  await t.step("a missing file is reported as corruption, an unknown id as not found", async () => {
    const info = await store.tensors.put({ w: { shape: [1], data: new Float32Array([1]) } });
    await Deno.remove(join(dir, "tensors", `${info.id}.safetensors`));
    await assert.rejects(store.tensors.get(info.id), DataCorruptError);
    await assert.rejects(store.tensors.get("nope"), NotFoundError);
  });

  await t.step("putEncoded validates before writing anything", async () => {
    const before = [...Deno.readDirSync(join(dir, "tensors"))].length;
    const bad = encodeSafetensors({ w: { shape: [2], data: new Float32Array(2) } }).slice(0, -1);
    await assert.rejects(store.tensors.putEncoded(bad), { name: "SafetensorsError" });
    assert.equal([...Deno.readDirSync(join(dir, "tensors"))].length, before);
    const ok = await store.tensors.putEncoded(
      encodeSafetensors({ v: { shape: [2], data: new Float32Array([1, 2]) } }),
    );
    assert.deepEqual(ok.names, ["v"]);
  });

  await t.step("delete removes row and file", async () => {
    const info = await store.tensors.put({ w: { shape: [1], data: new Float32Array([1]) } });
    assert.equal(await store.tensors.delete(info.id), true);
    assert.equal(store.tensors.info(info.id), null);
    await assert.rejects(
      Deno.stat(join(dir, "tensors", `${info.id}.safetensors`)),
      Deno.errors.NotFound,
    );
    assert.equal(await store.tensors.delete(info.id), false);
  });

  store.close();

  await t.step("partial files from a crash are removed at open", async () => {
    const partial = join(dir, "tensors", "crashed.safetensors.partial");
    await Deno.writeFile(partial, new Uint8Array(10));
    const reopened = SqliteStore.open({ dataDir: dir, modules: STORE_MODULES });
    await assert.rejects(Deno.stat(partial), Deno.errors.NotFound);
    reopened.close();
  });

  await Deno.remove(dir, { recursive: true });
});
