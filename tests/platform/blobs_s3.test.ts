// The S3 blob store and the tensor store on it, against a real S3-protocol server: s3rver (npm)
// in a child process on 127.0.0.1, behind a gateway that verifies SigV4 and can fail uploads
// (tests/helpers/s3_server.ts).
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { AwsClient } from "aws4fetch";
import {
  type BlobStore,
  BlobStoreUnavailableError,
  BlobTooLargeError,
} from "../../src/store/blobs/blob_store.ts";
import { MAX_SINGLE_PUT_BYTES, S3BlobStore, type S3Location } from "../../src/store/blobs/s3.ts";
import { SqliteStore } from "../../src/store/sqlite.ts";
import { FileTensorStore } from "../../src/store/tensor_files.ts";
import { DataCorruptError } from "../../src/store/store.ts";
import { reclaimSharedTensors } from "../../src/store/tensor_gc.ts";
import { encodeSafetensors, toFloat32 } from "../../src/store/safetensors.ts";
import {
  signatureProblem,
  startTestS3Server,
  TEST_S3_BUCKET as BUCKET,
  TEST_S3_CREDENTIALS as CREDENTIALS,
  TEST_S3_REGION as REGION,
} from "../helpers/s3_server.ts";

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

function location(endpoint: string, prefix: string): S3Location {
  return { bucket: BUCKET, prefix, endpoint, region: REGION };
}

async function keys(blobs: BlobStore): Promise<string[]> {
  const out: string[] = [];
  for await (const { key } of blobs.list()) out.push(key);
  return out.sort();
}

const tensor = (values: number[]) => ({
  w: { shape: [values.length], data: new Float32Array(values) },
});

Deno.test({
  name: "S3 blob store: round trip, absent keys, pages of listings, prefixes kept apart",
  fn: async () => {
    const s3 = await startTestS3Server();
    try {
      const blobs = new S3BlobStore(location(s3.endpoint, "cluster-a/"), CREDENTIALS, {
        pageSize: 2,
        retries: 0,
      });
      const other = new S3BlobStore(location(s3.endpoint, "cluster-b/"), CREDENTIALS);
      assert.equal(await blobs.get("missing.safetensors"), null);
      await blobs.delete("missing.safetensors");
      const before = Date.now();
      for (let i = 0; i < 5; i++) await blobs.put(`k${i}.safetensors`, new Uint8Array([i, 1, 2]));
      await other.put("elsewhere.safetensors", new Uint8Array([9]));
      assert.deepEqual(await blobs.get("k3.safetensors"), new Uint8Array([3, 1, 2]));
      s3.requests.length = 0;
      assert.deepEqual(await keys(blobs), [0, 1, 2, 3, 4].map((i) => `k${i}.safetensors`));
      const pages = s3.requests.filter((r) => r.search.includes("list-type=2"));
      assert.equal(pages.length, 3, "5 keys at 2 a page");
      assert.equal(pages.filter((r) => r.search.includes("continuation-token")).length, 2);
      for await (const { lastModified } of blobs.list()) {
        assert.ok(Math.abs(lastModified - before) < 120_000, `LastModified ${lastModified}`);
      }
      assert.deepEqual(await keys(other), ["elsewhere.safetensors"]);
      await blobs.delete("k0.safetensors");
      assert.equal(await blobs.get("k0.safetensors"), null);
      assert.equal((await keys(blobs)).length, 4);
      assert.deepEqual(blobs.describe(), {
        kind: "s3",
        location: `s3://${BUCKET}/cluster-a/`,
        endpoint: s3.endpoint,
        shared: true,
      });
      assert.ok(!JSON.stringify(blobs.describe()).includes(CREDENTIALS.secretAccessKey));
    } finally {
      await s3.stop();
    }
  },
});

Deno.test({
  name: "S3 blob store: requests are SigV4-signed; a wrong secret is refused, not retried",
  fn: async () => {
    const s3 = await startTestS3Server();
    try {
      const wrong = new S3BlobStore(
        location(s3.endpoint, ""),
        { ...CREDENTIALS, secretAccessKey: "not-the-secret" },
        { retries: 3, retryBaseMs: 1 },
      );
      await assert.rejects(
        wrong.put("x.safetensors", new Uint8Array([1])),
        (e: unknown) => {
          assert.ok(e instanceof BlobStoreUnavailableError);
          assert.match(e.message, /HTTP 403 \(SignatureDoesNotMatch/);
          assert.ok(!e.message.includes("not-the-secret"));
          return true;
        },
      );
      assert.equal(s3.requests.length, 1, "a 403 is final");
      assert.ok(s3.requests.every((r) => r.status === 403));
    } finally {
      await s3.stop();
    }
  },
});

Deno.test({
  name: "tensor store on S3: checksummed round trip, failed uploads leave no row, corruption found",
  fn: async (t) => {
    const s3 = await startTestS3Server();
    const dataDir = await Deno.makeTempDir({ prefix: "simfluence-s3-store-" });
    const store = SqliteStore.open({ dataDir });
    const blobs = new S3BlobStore(location(s3.endpoint, "tensors/"), CREDENTIALS, {
      retries: 2,
      retryBaseMs: 1,
    });
    const tensors = new FileTensorStore(store.db, blobs);
    const rows = () =>
      Number((store.db.prepare("SELECT COUNT(*) AS n FROM tensor_files").get() as { n: number }).n);
    try {
      await t.step("round trip with the checksum verified", async () => {
        const info = await tensors.put(tensor([1.5, -2, 3.25]), { note: "s3" });
        const stored = await blobs.get(`${info.id}.safetensors`);
        assert.ok(stored !== null, "the object is in the bucket");
        assert.equal(sha256(stored), info.sha256);
        assert.equal(stored.length, info.bytes);
        const read = await tensors.get(info.id);
        assert.deepEqual(read.metadata, { note: "s3" });
        assert.deepEqual([...toFloat32(read.tensors.get("w")!)], [1.5, -2, 3.25]);
        assert.ok(await tensors.delete(info.id));
        assert.equal(await blobs.get(`${info.id}.safetensors`), null);
      });

      await t.step("an upload the server fails leaves no row and no object", async () => {
        const rowsBefore = rows();
        const objectsBefore = await keys(blobs);
        s3.failPuts = true;
        s3.requests.length = 0;
        await assert.rejects(tensors.put(tensor([1])), (e: unknown) => {
          assert.ok(e instanceof BlobStoreUnavailableError, String(e));
          assert.match(e.message, /HTTP 500 \(InternalError/);
          return true;
        });
        s3.failPuts = false;
        assert.equal(s3.requests.filter((r) => r.method === "PUT").length, 3, "1 try + 2 retries");
        assert.equal(rows(), rowsBefore);
        assert.deepEqual(await keys(blobs), objectsBefore);
      });

      await t.step("a corrupt object is detected on read", async () => {
        const info = await tensors.put(tensor([4, 5, 6]));
        const key = `${info.id}.safetensors`;
        const bytes = (await blobs.get(key))!;
        bytes[bytes.length - 1] ^= 0x01; // a float's low bit: still a valid file
        await blobs.put(key, bytes);
        await assert.rejects(tensors.get(info.id), (e: unknown) => {
          assert.ok(e instanceof DataCorruptError);
          assert.equal(e.details.expected, info.sha256);
          assert.equal(e.details.actual, sha256(bytes));
          return true;
        });
        await blobs.delete(key);
        await assert.rejects(tensors.get(info.id), /missing from storage/);
      });

      await t.step("grace period: an unowned blob or row goes only once it is old", async () => {
        const orphanRow = await tensors.put(tensor([7])); // committed, its owner never was
        await blobs.put("stray.safetensors", new Uint8Array([1])); // stored, its row never was
        const fresh = await reclaimSharedTensors(store.db, blobs, { graceMs: 3600_000 });
        assert.deepEqual(fresh, { unowned: 0, strays: 0 });
        assert.ok(tensors.info(orphanRow.id) !== null);
        // Two hours on, both are abandoned.
        const later = await reclaimSharedTensors(store.db, blobs, {
          graceMs: 3600_000,
          now: Date.now() + 2 * 3600_000,
        });
        // The orphan and the row whose object the previous step deleted; the stray object.
        assert.deepEqual(later, { unowned: 2, strays: 1 });
        assert.equal(tensors.info(orphanRow.id), null);
        assert.deepEqual(await keys(blobs), []);
      });

      await t.step("with the server gone, an upload fails cleanly and leaves no row", async () => {
        const kept = await tensors.put(tensor([9]));
        const rowsBefore = rows();
        await s3.stop();
        await assert.rejects(tensors.put(tensor([8])), BlobStoreUnavailableError);
        assert.equal(rows(), rowsBefore);
        // A read says the store is unreachable, not that the file is corrupt.
        await assert.rejects(tensors.get(kept.id), BlobStoreUnavailableError);
        // A delete still removes the row; the object is left to clean-up.
        assert.equal(await tensors.delete(kept.id), true);
        assert.equal(tensors.info(kept.id), null);
      });
    } finally {
      store.close();
      await s3.stop().catch(() => {});
      await Deno.remove(dataDir, { recursive: true });
    }
  },
});

Deno.test("S3 blob store: a blob over one PUT's 5 GiB is refused before any request", async () => {
  const blobs = new S3BlobStore(location("http://127.0.0.1:9", ""), CREDENTIALS, { retries: 0 });
  // Only the length is read before the refusal; allocating 5 GiB here would prove nothing more.
  const huge = { byteLength: MAX_SINGLE_PUT_BYTES + 1 } as Uint8Array;
  await assert.rejects(blobs.put("big.safetensors", huge), BlobTooLargeError);
  assert.equal(MAX_SINGLE_PUT_BYTES, 5 * 1024 ** 3);
});

Deno.test("aws4fetch signs what the gateway verifies (a control for signatureProblem)", async () => {
  const client = new AwsClient({ ...CREDENTIALS, service: "s3", region: REGION, retries: 0 });
  const body = new Uint8Array([1, 2, 3]);
  const signed = await client.sign("http://127.0.0.1:1/b/k", {
    method: "PUT",
    body,
    headers: { "x-amz-content-sha256": sha256(body) },
  });
  assert.equal(await signatureProblem(signed, body), null);
  assert.equal(
    await signatureProblem(signed, new Uint8Array([1, 2, 4])),
    "payload hash does not match",
  );
  const tampered = new Request(signed, { headers: new Headers(signed.headers) });
  tampered.headers.set("x-amz-date", "20200101T000000Z");
  assert.equal(await signatureProblem(tampered, body), "signature does not match");
});

// An upload's bytes are stored as given, so a download returns the very file uploaded.
Deno.test({
  name: "putEncoded on S3 stores the bytes it was given",
  fn: async () => {
    const s3 = await startTestS3Server();
    const dataDir = await Deno.makeTempDir({ prefix: "simfluence-s3-encoded-" });
    const store = SqliteStore.open({ dataDir });
    try {
      const blobs = new S3BlobStore(location(s3.endpoint, ""), CREDENTIALS, { retries: 0 });
      const tensors = new FileTensorStore(store.db, blobs);
      const bytes = encodeSafetensors(tensor([1, 2]));
      const info = await tensors.putEncoded(bytes);
      assert.deepEqual(await tensors.bytes(info.id), bytes);
    } finally {
      store.close();
      await s3.stop();
      await Deno.remove(dataDir, { recursive: true });
    }
  },
});
