// Studies as resources (list with counts and test examples, one, delete with everything in it),
// runs that simulators depend on (409 unless forced, then marked), and every list paged alike.
import assert from "node:assert/strict";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { DATASETS } from "../../src/datasets/dataset_store.ts";
import { RUNS } from "../../src/runs/run_store.ts";
import { SqliteStore } from "../../src/store/sqlite.ts";
import { STORE_MODULES } from "../../src/store_modules.ts";
import { SIMULATORS } from "../../src/simfluence/simulator_store.ts";
import { parseSse, testApp } from "../helpers/app.ts";

// deno-lint-ignore no-explicit-any
type Json = any;
type AppLike = { request: (p: string, i?: RequestInit) => Response | Promise<Response> };

function post(app: AppLike, path: string, body: unknown) {
  return app.request(path, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}

/** A small run: 6 steps over e0..e5, losses falling a little per step. */
function run(study: string, name: string, shift: number) {
  const steps = Array.from({ length: 6 }, (_, t) => ({
    batch: [`e${(t + shift) % 6}`, `e${(t + shift + 2) % 6}`],
  }));
  const losses = Array.from(
    { length: 7 },
    (_, t) => [2 - 0.05 * t - 0.01 * shift, 3 - 0.04 * t + 0.01 * shift],
  );
  return { study, name, testExamples: ["q1", "q2"], steps, losses };
}

async function upload(app: AppLike, study: string, name: string, shift: number) {
  const res = await post(app, "/v1/runs", run(study, name, shift));
  assert.equal(res.status, 201, await res.clone().text());
  return (await res.json()).id as string;
}

async function fitted(app: AppLike, study: string, trainRuns: string[]) {
  const res = await post(app, "/v1/simulators", {
    study,
    kind: "additive",
    trainRuns,
    lambda: 0.1,
  });
  assert.equal(res.status, 202, await res.clone().text());
  const { simulator, job } = await res.json();
  const events = parseSse(await (await app.request(`/v1/jobs/${job}/events`)).text());
  assert.equal(events.at(-1)?.event, "done", JSON.stringify(events.at(-1)));
  return simulator.id as string;
}

async function tensorFiles(dataDir: string): Promise<number> {
  let n = 0;
  const walk = async (dir: string) => {
    for await (const entry of Deno.readDir(dir)) {
      if (entry.isDirectory) await walk(`${dir}/${entry.name}`);
      else if (entry.name.endsWith(".safetensors")) n++;
    }
  };
  await walk(dataDir);
  return n;
}

Deno.test("studies: list with counts, one, delete with runs, simulators and files", async () => {
  const ctx = await testApp();
  const { app } = ctx;
  const a = [await upload(app, "alpha", "r1", 0), await upload(app, "alpha", "r2", 1)];
  await upload(app, "beta", "r1", 2);
  const simulator = await fitted(app, "alpha", a);

  const all = await (await app.request("/v1/studies")).json();
  assert.equal(all.total, 2);
  assert.deepEqual([all.limit, all.offset], [50, 0]);
  assert.deepEqual(
    all.studies.map((s: { name: string; runs: number; simulators: number }) => [
      s.name,
      s.runs,
      s.simulators,
    ]),
    [["alpha", 2, 1], ["beta", 1, 0]],
  );
  assert.deepEqual(all.studies[0].testExamples, ["q1", "q2"]);
  const second = await (await app.request("/v1/studies?limit=1&offset=1")).json();
  assert.deepEqual([second.studies.length, second.studies[0].name, second.total], [1, "beta", 2]);

  const one = await (await app.request("/v1/studies/alpha")).json();
  assert.equal(one.runs, 2);
  assert.equal((await app.request("/v1/studies/gamma")).status, 404);

  const filesBefore = await tensorFiles(ctx.dataDir);
  const res = await app.request("/v1/studies/alpha", { method: "DELETE" });
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { study: "alpha", runs: 2, simulators: 1, files: 3 });
  assert.equal(await tensorFiles(ctx.dataDir), filesBefore - 3);
  assert.equal((await app.request(`/v1/runs/${a[0]}`)).status, 404);
  assert.equal((await app.request(`/v1/simulators/${simulator}`)).status, 404);
  assert.equal(ctx.store.get(SIMULATORS).list({ study: "alpha", limit: 10, offset: 0 }).total, 0);
  assert.equal(ctx.store.get(RUNS).studyTestExamples("alpha"), null);
  const left = await (await app.request("/v1/studies")).json();
  assert.deepEqual(left.studies.map((s: { name: string }) => s.name), ["beta"]);
  // The name is free again, with other test examples if need be.
  const again = run("alpha", "r1", 0);
  again.testExamples = ["q9", "q8"];
  assert.equal((await post(app, "/v1/runs", again)).status, 201);
  assert.equal((await app.request("/v1/studies/alpha", { method: "DELETE" })).status, 200);
  assert.equal((await app.request("/v1/studies/alpha", { method: "DELETE" })).status, 404);
  await ctx.close();
});

Deno.test("runs: deleting one a simulator was fitted on is a 409 unless forced", async () => {
  const ctx = await testApp();
  const { app } = ctx;
  const runs = [await upload(app, "s", "r1", 0), await upload(app, "s", "r2", 1)];
  const spare = await upload(app, "s", "r3", 2);
  const simulator = await fitted(app, "s", runs);

  const refused = await app.request(`/v1/runs/${runs[0]}`, { method: "DELETE" });
  assert.equal(refused.status, 409);
  const { error } = await refused.json();
  assert.equal(error.code, "in_use");
  assert.deepEqual(error.details.dependants, [{
    kind: "simulator",
    id: simulator,
    status: "ready",
  }]);
  assert.equal((await app.request(`/v1/runs/${runs[0]}`)).status, 200);

  // A run no simulator uses goes as before.
  assert.equal((await app.request(`/v1/runs/${spare}`, { method: "DELETE" })).status, 204);

  const forced = await app.request(`/v1/runs/${runs[0]}?force=true`, { method: "DELETE" });
  assert.equal(forced.status, 204);
  assert.equal((await app.request(`/v1/runs/${runs[0]}`)).status, 404);
  const record = await (await app.request(`/v1/simulators/${simulator}`)).json();
  assert.deepEqual(record.deletedRuns, [runs[0]]);
  assert.equal((await app.request("/v1/runs/x?force=maybe", { method: "DELETE" })).status, 400);
  await ctx.close();
});

Deno.test("datasets and models: unique names, reachable by name or id", async () => {
  const ctx = await testApp();
  const { app } = ctx;
  const upload = (name: string) =>
    app.request(`/v1/datasets?name=${name}`, {
      method: "POST",
      headers: { "content-type": "application/x-ndjson" },
      body: '{"text": "one"}\n{"text": "two"}\n{"text": "three"}\n',
    });
  const created = await (await upload("notes")).json();
  const taken = await upload("notes");
  assert.equal(taken.status, 409);
  const { error } = await taken.json();
  assert.deepEqual([error.code, error.details.field, error.details.existing], [
    "name_taken",
    "name",
    created.id,
  ]);
  const byName = await (await app.request("/v1/datasets/notes?limit=2&offset=1")).json();
  assert.equal(byName.dataset.id, created.id);
  assert.deepEqual([byName.total, byName.limit, byName.offset, byName.examples.length], [
    3,
    2,
    1,
    2,
  ]);
  assert.equal((await upload("builtin:mine")).status, 400);

  const config = { vocab_size: 257, n_positions: 16, n_embd: 8, n_layer: 1, n_head: 2 };
  const model = await (await post(app, "/v1/models", { config, name: "tiny" })).json();
  const twin = await post(app, "/v1/models", { config, name: "tiny" });
  assert.equal(twin.status, 409);
  assert.equal((await twin.json()).error.details.existing, model.id);
  assert.equal((await (await app.request("/v1/models/tiny")).json()).id, model.id);
  // Unnamed models stay allowed, any number of them.
  assert.equal((await post(app, "/v1/models", { config })).status, 201);
  assert.equal((await post(app, "/v1/models", { config })).status, 201);

  assert.equal((await app.request("/v1/models/tiny", { method: "DELETE" })).status, 204);
  assert.equal((await app.request("/v1/datasets/notes", { method: "DELETE" })).status, 204);
  assert.equal((await app.request(`/v1/datasets/${created.id}`)).status, 404);
  await ctx.close();
});

Deno.test("datasets and models: a store holding duplicate names adopts them on migration", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "simfluence-names-" });
  SqliteStore.open({ dataDir, modules: STORE_MODULES }).close();
  // Make it a store from before names were unique: no index, no record of the migration, and
  // duplicates (one taking the name a suffix would choose).
  const db = new DatabaseSync(join(dataDir, "simfluence.db"));
  db.exec(`DROP INDEX datasets_name; DROP INDEX models_name;
    DELETE FROM schema_versions WHERE name IN ('datasets_unique_names', 'models_unique_names')`);
  const insert = db.prepare(
    "INSERT INTO datasets (id, name, examples, format, created_at) VALUES (?, ?, 1, 'text', ?)",
  );
  insert.run("d1", "notes", 1);
  insert.run("d2", "notes", 2);
  insert.run("d3", "notes-2", 3);
  insert.run("d4", "notes", 4);
  const model = db.prepare(
    `INSERT INTO models (id, name, config, tokenizer_kind, params_tensor, parameters, source,
       created_at) VALUES (?, ?, '{}', 'byte', 'none', 0, 'init', ?)`,
  );
  model.run("m1", "tiny", 1);
  model.run("m2", "tiny", 2);
  model.run("m3", null, 3);
  model.run("m4", null, 4);
  db.close();

  const store = SqliteStore.open({ dataDir, modules: STORE_MODULES });
  const names = (sql: string) =>
    Object.fromEntries(
      (store.db.prepare(sql).all() as { id: string; name: string | null }[]).map((r) => [
        r.id,
        r.name,
      ]),
    );
  assert.deepEqual(names("SELECT id, name FROM datasets"), {
    d1: "notes",
    d2: "notes-3",
    d3: "notes-2",
    d4: "notes-4",
  });
  assert.deepEqual(names("SELECT id, name FROM models"), {
    m1: "tiny",
    m2: "tiny-2",
    m3: null,
    m4: null,
  });
  assert.equal(store.get(DATASETS).get("notes-4")?.id, "d4");
  store.close();
  await Deno.remove(dataDir, { recursive: true });
});

Deno.test("every list is paged alike: limit and offset in, total, limit and offset out", async () => {
  const ctx = await testApp();
  const { app } = ctx;
  const doc = await (await app.request("/openapi.json")).json();
  const lists: string[] = [];
  for (const [path, ops] of Object.entries(doc.paths as Record<string, Record<string, Json>>)) {
    const op = ops.get;
    const schema = op?.responses?.["200"]?.content?.["application/json"]?.schema;
    if (!schema) continue;
    const resolved = schema.$ref ? doc.components.schemas[schema.$ref.split("/").pop()] : schema;
    const query = (op.parameters ?? []).filter((p: { in: string }) => p.in === "query")
      .map((p: { name: string }) => p.name);
    // A list answers an array of records; rankings (`top`, `k`) are not lists.
    const arrays = Object.values((resolved.properties ?? {}) as Record<string, Json>).filter((p) =>
      p.type === "array" && (p.items?.$ref || p.items?.type === "object" || p.items?.anyOf)
    );
    if (arrays.length === 0 || query.includes("top") || query.includes("k")) continue;
    lists.push(path);
    assert.ok(query.includes("limit") && query.includes("offset"), `${path} takes no limit/offset`);
    for (const key of ["total", "limit", "offset"]) {
      assert.ok(resolved.properties[key], `${path} answers no ${key}`);
    }
  }
  for (
    const path of [
      "/v1/jobs",
      "/v1/runs",
      "/v1/studies",
      "/v1/simulators",
      "/v1/datasets",
      "/v1/datasets/{id}",
      "/v1/models",
      "/v1/runs/{id}/checkpoints",
    ]
  ) {
    assert.ok(lists.includes(path), `${path} not recognised as a list`);
  }
  const datasets = await (await app.request("/v1/datasets?limit=1&offset=1")).json();
  assert.equal(datasets.datasets.length, 1);
  assert.ok(datasets.total >= 2);
  assert.deepEqual([datasets.limit, datasets.offset], [1, 1]);
  const simulators = await (await app.request("/v1/simulators?limit=3")).json();
  assert.deepEqual([simulators.total, simulators.limit, simulators.offset], [0, 3, 0]);
  await ctx.close();
});
