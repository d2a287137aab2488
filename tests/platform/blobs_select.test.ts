// SIMFLUENCE_BLOB_URL and the S3 variables: what each value selects, and that a bad one stops
// start-up with a message naming its variable (and never quoting a secret).
import assert from "node:assert/strict";
import { join } from "node:path";
import { ConfigError, parseConfig } from "../../src/config.ts";
import { servicePermissionFlags } from "../../src/launcher.ts";
import { DirectoryBlobStore } from "../../src/store/blobs/directory.ts";
import { S3BlobStore } from "../../src/store/blobs/s3.ts";
import { openBlobStore, parseBlobSettings } from "../../src/store/blobs/select.ts";

const S3_KEYS = { AWS_ACCESS_KEY_ID: "AKIDEXAMPLE", AWS_SECRET_ACCESS_KEY: "wJalrXUtnFEMI-secret" };

function problemsOf(env: Record<string, string>): { variable: string; message: string }[] {
  try {
    parseConfig(env);
  } catch (e) {
    assert.ok(e instanceof ConfigError);
    return e.problems;
  }
  assert.fail(`expected ${JSON.stringify(env)} to be rejected`);
}

Deno.test("unset: the node's own <dataDir>/tensors, unshared, as before", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "simfluence-select-" });
  try {
    const config = parseConfig({ SIMFLUENCE_DATA_DIR: dataDir, SIMFLUENCE_BLOB_URL: " " });
    assert.deepEqual(config.blobs, { location: { kind: "local" }, graceSeconds: 3600 });
    const blobs = openBlobStore(config.blobs, dataDir);
    assert.ok(blobs instanceof DirectoryBlobStore);
    assert.equal(blobs.dir, join(dataDir, "tensors"));
    assert.equal(blobs.shared, false);
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("file:///abs/path: a shared folder, which the launcher lets the service write", async () => {
  const shared = await Deno.makeTempDir({ prefix: "simfluence-select-nfs-" });
  try {
    const config = parseConfig({
      SIMFLUENCE_BLOB_URL: `file://${shared}/`,
      SIMFLUENCE_BLOB_GRACE_SECONDS: "600",
    });
    assert.deepEqual(config.blobs, {
      location: { kind: "directory", path: shared },
      graceSeconds: 600,
    });
    const blobs = openBlobStore(config.blobs, "/unused");
    assert.ok(blobs instanceof DirectoryBlobStore && blobs.shared && blobs.dir === shared);
    const flags = servicePermissionFlags(config, {}, "/srv");
    assert.ok(flags.includes(`--allow-write=/srv/data,${shared}`), flags.join(" "));
    assert.ok(flags.find((f) => f.startsWith("--allow-read="))!.split(",").includes(shared));
  } finally {
    await Deno.remove(shared, { recursive: true });
  }
});

Deno.test("s3://bucket/prefix: endpoint, region and credentials from the usual variables", () => {
  const aws = parseConfig({ SIMFLUENCE_BLOB_URL: "s3://my-bucket/sim/fluence", ...S3_KEYS });
  assert.deepEqual(aws.blobs.location, {
    kind: "s3",
    s3: { bucket: "my-bucket", prefix: "sim/fluence/", endpoint: null, region: "us-east-1" },
    credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI-secret" },
  });
  const blobs = openBlobStore(aws.blobs, "/unused");
  assert.ok(blobs instanceof S3BlobStore);
  assert.deepEqual(blobs.describe(), {
    kind: "s3",
    location: "s3://my-bucket/sim/fluence/",
    endpoint: null,
    shared: true,
  });

  const minio = parseBlobSettings({
    SIMFLUENCE_BLOB_URL: "s3://bucket",
    SIMFLUENCE_S3_ENDPOINT: "http://127.0.0.1:9000/",
    AWS_ENDPOINT_URL: "https://ignored.example",
    AWS_REGION: "eu-west-1",
    AWS_SESSION_TOKEN: "token",
    ...S3_KEYS,
  });
  assert.deepEqual(minio.settings?.location, {
    kind: "s3",
    s3: { bucket: "bucket", prefix: "", endpoint: "http://127.0.0.1:9000", region: "eu-west-1" },
    credentials: {
      ...{ accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI-secret" },
      sessionToken: "token",
    },
  });
  const generic = parseBlobSettings({
    SIMFLUENCE_BLOB_URL: "s3://bucket/p/",
    AWS_ENDPOINT_URL: "https://s3.example.com",
    ...S3_KEYS,
  });
  assert.equal(
    generic.settings?.location.kind === "s3" && generic.settings.location.s3.endpoint,
    "https://s3.example.com",
  );
});

Deno.test("bad values stop start-up naming the variable, never quoting a secret", () => {
  const cases: [Record<string, string>, string[]][] = [
    [{ SIMFLUENCE_BLOB_URL: "/mnt/shared" }, ["SIMFLUENCE_BLOB_URL"]],
    [{ SIMFLUENCE_BLOB_URL: "file://host/mnt/shared" }, ["SIMFLUENCE_BLOB_URL"]],
    [{ SIMFLUENCE_BLOB_URL: "file:///" }, ["SIMFLUENCE_BLOB_URL"]],
    [{ SIMFLUENCE_BLOB_URL: "https://bucket.example/x" }, ["SIMFLUENCE_BLOB_URL"]],
    [{ SIMFLUENCE_BLOB_URL: "s3://Bad_Bucket/x", ...S3_KEYS }, ["SIMFLUENCE_BLOB_URL"]],
    [{ SIMFLUENCE_BLOB_URL: "s3://bucket/a//b", ...S3_KEYS }, ["SIMFLUENCE_BLOB_URL"]],
    [{ SIMFLUENCE_BLOB_URL: "s3://bucket/x?versionId=1", ...S3_KEYS }, ["SIMFLUENCE_BLOB_URL"]],
    [{ SIMFLUENCE_BLOB_URL: "s3://bucket/x" }, ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"]],
    [
      { SIMFLUENCE_BLOB_URL: "s3://bucket/x", SIMFLUENCE_S3_ENDPOINT: "minio:9000", ...S3_KEYS },
      ["SIMFLUENCE_S3_ENDPOINT"],
    ],
    [{ SIMFLUENCE_BLOB_URL: "s3://bucket", AWS_REGION: "EU West", ...S3_KEYS }, ["AWS_REGION"]],
    [{ SIMFLUENCE_BLOB_GRACE_SECONDS: "1h" }, ["SIMFLUENCE_BLOB_GRACE_SECONDS"]],
    [{ SIMFLUENCE_BLOB_GRACE_SECONDS: "-5" }, ["SIMFLUENCE_BLOB_GRACE_SECONDS"]],
    [{ PORT: "x", SIMFLUENCE_BLOB_URL: "ftp://x" }, ["PORT", "SIMFLUENCE_BLOB_URL"]],
  ];
  for (const [env, variables] of cases) {
    const problems = problemsOf(env);
    assert.deepEqual(problems.map((p) => p.variable), variables, JSON.stringify(env));
    for (const p of problems) assert.ok(!p.message.includes(S3_KEYS.AWS_SECRET_ACCESS_KEY));
  }
  const withUserInfo = problemsOf({ SIMFLUENCE_BLOB_URL: "s3://AKID:hunter2@bucket/x" });
  assert.ok(!withUserInfo[0].message.includes("hunter2"), withUserInfo[0].message);
  assert.match(
    new ConfigError(problemsOf({ SIMFLUENCE_BLOB_URL: "nope" })).message,
    /SIMFLUENCE_BLOB_URL: expected file:\/\/\/absolute\/path or s3:\/\/bucket\/prefix/,
  );
});
