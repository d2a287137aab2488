// Dataset uploads over HTTP: NDJSON and multipart bodies, errors naming the line, list, pages,
// delete, and loadDatasetExamples for uploaded data.
import assert from "node:assert/strict";
import { loadDatasetExamples } from "../../src/datasets/load.ts";
import { parseDatasetJsonl } from "../../src/datasets/jsonl.ts";
import { ApiError, toApiError } from "../../src/http/api_error.ts";
import { testApp } from "../helpers/app.ts";
import { DATASETS } from "../../src/datasets/dataset_store.ts";

type AppLike = { request: (p: string, i?: RequestInit) => Response | Promise<Response> };

function upload(app: AppLike, name: string, body: string, type = "application/x-ndjson") {
  return app.request(`/v1/datasets?name=${encodeURIComponent(name)}`, {
    method: "POST",
    headers: { "content-type": type },
    body,
  });
}

async function errorOf(res: Response) {
  const body = await res.json();
  assert.ok(body.error, "JSON error body");
  return body.error as { code: string; message: string; details: Record<string, unknown> };
}

const LINES = [
  '{"id": "a", "text": "hello world"}',
  '{"prompt": "2+2=", "completion": "4"}',
  "",
  '{"id": 7, "prompt": "", "completion": "x"}',
].join("\n") + "\n";

Deno.test("datasets: upload, list, page, load and delete", async (t) => {
  const ctx = await testApp();
  try {
    let id = "";
    await t.step(
      "NDJSON upload: ids generated from name and line, blank lines skipped",
      async () => {
        const res = await upload(ctx.app, "tiny", LINES);
        assert.equal(res.status, 201, await res.clone().text());
        const dataset = await res.json();
        assert.deepEqual(
          [dataset.name, dataset.source, dataset.examples, dataset.format],
          ["tiny", "uploaded", 3, "mixed"],
        );
        id = dataset.id;
        const all = await loadDatasetExamples(ctx.store, id);
        assert.deepEqual(all, [
          { id: "a", text: "hello world" },
          { id: "tiny-2", prompt: "2+2=", completion: "4" },
          { id: "7", prompt: "", completion: "x" },
        ]);
      },
    );
    await t.step("multipart field `file` works the same", async () => {
      const form = new FormData();
      form.set("file", new File(['{"text": "one"}\n{"text": "two"}\n'], "data.jsonl"));
      const res = await ctx.app.request("/v1/datasets?name=multi", { method: "POST", body: form });
      assert.equal(res.status, 201, await res.clone().text());
      const dataset = await res.json();
      assert.equal(dataset.format, "text");
      const page = await (await ctx.app.request(`/v1/datasets/${dataset.id}`)).json();
      assert.deepEqual(page.examples.map((e: { id: string }) => e.id), ["multi-1", "multi-2"]);
    });
    await t.step("list holds the built-ins and both uploads", async () => {
      const { datasets } = await (await ctx.app.request("/v1/datasets")).json();
      const ids = datasets.map((d: { id: string }) => d.id);
      assert.deepEqual(ids.slice(0, 2), ["builtin:skills", "builtin:spam"]);
      assert.equal(ids.length, 4);
      assert.ok(ids.includes(id));
    });
    await t.step("a page of examples with offset and limit", async () => {
      const res = await ctx.app.request(`/v1/datasets/${id}?offset=1&limit=1`);
      assert.equal(res.status, 200);
      const page = await res.json();
      assert.equal(page.dataset.id, id);
      assert.deepEqual(page.examples, [{ id: "tiny-2", prompt: "2+2=", completion: "4" }]);
    });
    await t.step("ids not in the dataset: 400 listing them", async () => {
      await assert.rejects(
        loadDatasetExamples(ctx.store, id, ["a", "nope", "neither"]),
        (thrown) => {
          const e = toApiError(thrown);
          return e instanceof ApiError && e.status === 400 &&
            JSON.stringify(e.details).includes("nope") && e.message.includes("neither");
        },
      );
      assert.deepEqual(
        (await loadDatasetExamples(ctx.store, id, ["7", "a"])).map((e) => e.id),
        ["7", "a"],
      );
    });
    await t.step("unknown dataset: 404", async () => {
      assert.equal((await ctx.app.request("/v1/datasets/missing")).status, 404);
      await assert.rejects(
        loadDatasetExamples(ctx.store, "missing"),
        (thrown) => {
          const e = toApiError(thrown);
          return e instanceof ApiError && e.status === 404;
        },
      );
    });
    await t.step("delete: 204, then 404; built-ins cannot be deleted", async () => {
      assert.equal((await ctx.app.request(`/v1/datasets/${id}`, { method: "DELETE" })).status, 204);
      assert.equal((await ctx.app.request(`/v1/datasets/${id}`)).status, 404);
      assert.equal((await ctx.app.request(`/v1/datasets/${id}`, { method: "DELETE" })).status, 404);
      const builtin = await ctx.app.request("/v1/datasets/builtin:skills", { method: "DELETE" });
      assert.equal(builtin.status, 400);
      const rows = ctx.store.get(DATASETS).all(id);
      assert.equal(rows.length, 0, "examples deleted with the dataset");
    });
  } finally {
    await ctx.close();
  }
});

Deno.test("datasets: bad uploads are 400s naming the line, and store nothing", async (t) => {
  const ctx = await testApp();
  try {
    const cases: [string, string, number, string][] = [
      ["malformed JSON", '{"text": "ok"}\n{"text": oops}\n', 2, "json"],
      ["duplicate id", '{"id": "x", "text": "a"}\n\n{"id": "x", "text": "b"}\n', 3, "duplicate_id"],
      ["generated id colliding", '{"text": "a"}\n{"id": "d-1", "text": "b"}\n', 2, "duplicate_id"],
      ["neither text nor prompt", '{"id": "x", "label": 1}\n', 1, "shape"],
      ["both text and prompt", '{"text": "a", "prompt": "b", "completion": "c"}\n', 1, "shape"],
      ["empty text", '{"text": "a"}\n{"text": ""}\n', 2, "text"],
      ["completion missing", '{"prompt": "a"}\n', 1, "completion"],
      ["not an object", '["text"]\n', 1, "not_object"],
      ["bad id", '{"id": "", "text": "a"}\n', 1, "id"],
    ];
    for (const [what, body, line, problem] of cases) {
      await t.step(what, async () => {
        const res = await upload(ctx.app, "d", body);
        assert.equal(res.status, 400);
        const error = await errorOf(res);
        assert.equal(error.code, "invalid_dataset");
        assert.equal(error.details.line, line);
        assert.equal(error.details.problem, problem);
        assert.match(error.message, new RegExp(`^line ${line}:`));
      });
    }
    await t.step("empty dataset (only blank lines)", async () => {
      const error = await errorOf(await upload(ctx.app, "d", "\n  \n"));
      assert.equal(error.details.problem, "empty");
      assert.match(error.message, /empty/);
    });
    await t.step("missing name, wrong content type, missing multipart file", async () => {
      const noName = await ctx.app.request("/v1/datasets", {
        method: "POST",
        headers: { "content-type": "application/x-ndjson" },
        body: '{"text": "a"}',
      });
      assert.equal(noName.status, 400);
      assert.match((await errorOf(noName)).message, /query parameter name/);
      assert.equal((await upload(ctx.app, "d", '{"text": "a"}', "text/plain")).status, 415);
      const form = new FormData();
      form.set("other", "x");
      const res = await ctx.app.request("/v1/datasets?name=d", { method: "POST", body: form });
      assert.equal(res.status, 400);
      assert.match((await errorOf(res)).message, /\bfile\b/);
    });
    await t.step("nothing was stored", async () => {
      const { datasets } = await (await ctx.app.request("/v1/datasets")).json();
      assert.equal(datasets.filter((d: { source: string }) => d.source === "uploaded").length, 0);
    });
  } finally {
    await ctx.close();
  }
});

Deno.test("jsonl parser: CRLF line ends and numeric ids", () => {
  const examples = parseDatasetJsonl('{"id": 1, "text": "a"}\r\n{"text": "b"}\r\n', "n");
  assert.deepEqual(examples, [{ id: "1", text: "a" }, { id: "n-2", text: "b" }]);
});
