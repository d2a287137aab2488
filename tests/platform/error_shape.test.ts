// One error shape on every route: each documented operation is called with what it must refuse
// (ids that name nothing, numbers that are not numbers, unknown body fields, a wrong media type),
// and every answer must fit the documented Error schema: details always an object, `field` and
// `in` where a field is at fault, `accepted` on a 415, and no validator jargon in the message.
import assert from "node:assert/strict";
import { Ajv2020 } from "ajv/dist/2020.js";
import { testApp } from "../helpers/app.ts";

type Json = Record<string, unknown>;

interface Operation {
  method: string;
  path: string;
  op: Json;
}

const MISSING_ID = "00000000-0000-4000-8000-00000000dead";

function operations(doc: Json): Operation[] {
  return Object.entries(doc.paths as Record<string, Record<string, Json>>).flatMap(
    ([path, ops]) => Object.entries(ops).map(([method, op]) => ({ method, path, op })),
  );
}

function parameters(op: Json, place: string): { name: string; schema: Json; required?: boolean }[] {
  return ((op.parameters ?? []) as { in: string; name: string; schema: Json }[]).filter((p) =>
    p.in === place
  );
}

function isNumeric(schema: Json): boolean {
  return schema.type === "integer" || schema.type === "number";
}

/**
 * The operation's URL with every path parameter filled by something that names nothing, and every
 * required query parameter given (unless `query` sets it), so that only the fault under test shows.
 */
function urlOf(operation: Operation, query: Record<string, string> = {}): string {
  let url = operation.path;
  for (const p of parameters(operation.op, "path")) {
    url = url.replace(`{${p.name}}`, isNumeric(p.schema) ? "1" : MISSING_ID);
  }
  const params = new URLSearchParams();
  for (const p of parameters(operation.op, "query").filter((p) => p.required)) {
    params.set(p.name, isNumeric(p.schema) ? "1" : "x1");
  }
  for (const [name, value] of Object.entries(query)) params.set(name, value);
  return params.size > 0 ? `${url}?${params}` : url;
}

Deno.test("errors: one shape on every route", async (t) => {
  const ctx = await testApp();
  const { app } = ctx;
  const doc = await (await app.request("/openapi.json")).json() as Json;
  const ajv = new Ajv2020({ strict: false, validateFormats: false, allErrors: true });
  ajv.addSchema({
    $id: "openapi",
    components: JSON.parse(
      JSON.stringify(doc.components).replaceAll('"#/components/', '"openapi#/components/'),
    ),
  });
  const errorSchema = ajv.getSchema("openapi#/components/schemas/Error")!;
  const ops = operations(doc);
  let checked = 0;

  async function errorOf(where: string, res: Response) {
    const text = await res.text();
    assert.ok(res.status >= 400, `${where}: ${res.status} ${text.slice(0, 200)}`);
    const body = JSON.parse(text);
    assert.ok(errorSchema(body), `${where}: ${JSON.stringify(errorSchema.errors)} in ${text}`);
    const { error } = body;
    assert.equal(typeof error.details, "object", where);
    assert.ok(error.details !== null && !Array.isArray(error.details), `${where}: ${text}`);
    assert.doesNotMatch(error.message, /NaN|nonoptional|received undefined|^(json|form|param)\./);
    checked++;
    return error;
  }

  await t.step(
    "an id that names nothing: a 4xx (or 503 without a GPU) in the one shape",
    async () => {
      for (const operation of ops) {
        if (parameters(operation.op, "path").length === 0) continue;
        const init: RequestInit = { method: operation.method.toUpperCase() };
        const content = (operation.op.requestBody as Json | undefined)?.content as Json | undefined;
        const media = content?.["application/json"] as Json | undefined;
        if (media) {
          init.headers = { "content-type": "application/json" };
          init.body = JSON.stringify(media.example);
        }
        const where = `${init.method} ${operation.path}`;
        const res = await app.request(urlOf(operation), init);
        assert.ok([400, 404, 409, 503].includes(res.status), `${where}: ${res.status}`);
        await errorOf(where, res);
      }
    },
  );

  await t.step("a numeric query or path parameter that is not a number names it", async () => {
    for (const operation of ops) {
      for (const place of ["query", "path"] as const) {
        for (const p of parameters(operation.op, place).filter((p) => isNumeric(p.schema))) {
          const url = place === "query"
            ? urlOf(operation, { [p.name]: "abc" })
            : urlOf(operation).replace(/\/1(\/|$)/, "/abc$1");
          const where = `${operation.method.toUpperCase()} ${url}`;
          const res = await app.request(url, { method: operation.method.toUpperCase() });
          assert.equal(res.status, 400, where);
          const error = await errorOf(where, res);
          assert.equal(error.code, "validation_failed", where);
          assert.equal(error.details.field, p.name, where);
          assert.equal(error.details.in, place, where);
        }
      }
    }
  });

  await t.step("an unknown body field is a 400 naming it, on every JSON body", async () => {
    for (const operation of ops) {
      const content = (operation.op.requestBody as Json | undefined)?.content as Json | undefined;
      const media = content?.["application/json"] as Json | undefined;
      if (!media) continue;
      const where = `${operation.method.toUpperCase()} ${operation.path}`;
      const res = await app.request(urlOf(operation), {
        method: operation.method.toUpperCase(),
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ ...(media.example as Json), zzzUnknown: 1 }),
      });
      assert.equal(res.status, 400, where);
      const error = await errorOf(where, res);
      assert.equal(error.code, "validation_failed", where);
      assert.equal(error.details.field, "zzzUnknown", where);
      assert.equal(error.details.in, "body", where);
      assert.match(error.message, /zzzUnknown/, where);
    }
  });

  await t.step(
    "a media type the route does not take is a 415 listing the accepted ones",
    async () => {
      for (const operation of ops) {
        const content = (operation.op.requestBody as Json | undefined)?.content as Json | undefined;
        if (!content) continue;
        const where = `${operation.method.toUpperCase()} ${operation.path}`;
        for (const headers of [{ "content-type": "text/plain" }, {} as Record<string, string>]) {
          const res = await app.request(urlOf(operation), {
            method: operation.method.toUpperCase(),
            headers,
            body: "x",
          });
          if (res.status === 400 && Object.keys(headers).length === 0) {
            // A route whose body is optional may read a body without a type as absent.
            await errorOf(where, res);
            continue;
          }
          assert.equal(res.status, 415, `${where} ${JSON.stringify(headers)}`);
          const error = await errorOf(where, res);
          assert.equal(error.code, "unsupported_media_type");
          assert.equal(error.details.field, "content-type");
          assert.deepEqual([...error.details.accepted].sort(), Object.keys(content).sort(), where);
          for (const type of error.details.accepted) assert.ok(error.message.includes(type), where);
        }
      }
    },
  );

  await t.step("the cases of the issue read plainly", async () => {
    const form = new FormData();
    form.set("other", "x");
    const noFile = await errorOf(
      "dataset without file",
      await app.request("/v1/datasets?name=d1", { method: "POST", body: form }),
    );
    assert.equal(noFile.details.field, "file");
    const step = await errorOf(
      "checkpoint step",
      await app.request(`/v1/runs/${MISSING_ID}/checkpoints/zz`),
    );
    assert.equal(step.message, "path parameter step: must be a number");
    // Uploads line by line name the line.
    const ndjson = (path: string, body: string) =>
      app.request(path, {
        method: "POST",
        headers: { "content-type": "application/x-ndjson" },
        body,
      });
    const run = await errorOf(
      "NDJSON run",
      await ndjson(
        "/v1/runs",
        '{"study": "s", "name": "r", "testExamples": ["q"], ' +
          '"initialLosses": [1]}\n{"batch": ["e1"], "losses": "x"}\n',
      ),
    );
    assert.equal(run.details.line, 2);
    const dataset = await errorOf(
      "JSONL dataset",
      await ndjson("/v1/datasets?name=lines", '{"text": "a"}\n{"txt": "b"}\n'),
    );
    assert.equal(dataset.details.line, 2);
    const unknownRoute = await errorOf("no route", await app.request("/v1/nothing"));
    assert.deepEqual(unknownRoute.details, {});
  });

  assert.ok(checked > 60, `only ${checked} errors checked`);
  await ctx.close();
});
