// The OpenAPI document as a client generator or a validator sees it: valid OpenAPI 3.1 by a real
// validator, every schema compilable by a JSON Schema 2020-12 validator, no `allOf` of closed
// objects (which no value can satisfy), and every JSON request body carrying an example that its
// own schema accepts and that the route itself accepts.
import assert from "node:assert/strict";
import SwaggerParser from "@apidevtools/swagger-parser";
import { Ajv2020 } from "ajv/dist/2020.js";
import { testApp } from "../helpers/app.ts";

type Json = Record<string, unknown>;

interface JsonBody {
  method: string;
  path: string;
  schema: Json;
  example: unknown;
}

function jsonBodies(doc: Json): JsonBody[] {
  const bodies: JsonBody[] = [];
  for (const [path, ops] of Object.entries(doc.paths as Record<string, Record<string, Json>>)) {
    for (const [method, op] of Object.entries(ops)) {
      const content = (op.requestBody as Json | undefined)?.content as Record<string, Json>;
      const media = content?.["application/json"];
      if (media) {
        bodies.push({ method, path, schema: media.schema as Json, example: media.example });
      }
    }
  }
  return bodies;
}

/** Refs in the document point at "#/components/…"; inside ajv they must name the document. */
function rebased<T>(value: T): T {
  return JSON.parse(JSON.stringify(value).replaceAll('"#/components/', '"openapi#/components/'));
}

function closedObjectsUnderAllOf(doc: Json): string[] {
  const schemas = (doc.components as Json).schemas as Record<string, Json>;
  const resolve = (s: Json): Json =>
    typeof s.$ref === "string" ? schemas[s.$ref.split("/").pop()!] ?? s : s;
  const found: string[] = [];
  const walk = (node: unknown, where: string) => {
    if (Array.isArray(node)) node.forEach((n, i) => walk(n, `${where}/${i}`));
    if (!node || typeof node !== "object") return;
    const allOf = (node as Json).allOf;
    if (Array.isArray(allOf)) {
      const closed = allOf.filter((part) => resolve(part).additionalProperties === false);
      if (closed.length > 0) found.push(where);
    }
    for (const [key, child] of Object.entries(node)) walk(child, `${where}/${key}`);
  };
  walk(doc.paths, "#/paths");
  walk(schemas, "#/components/schemas");
  return found;
}

/** Objects with named properties inside request bodies that still accept unknown keys. */
function openObjectsInBodies(doc: Json): string[] {
  const schemas = (doc.components as Json).schemas as Record<string, Json>;
  const found: string[] = [];
  const walk = (node: unknown, where: string, seen: Set<string>) => {
    if (Array.isArray(node)) return node.forEach((n) => walk(n, where, seen));
    if (!node || typeof node !== "object") return;
    const schema = node as Json;
    if (typeof schema.$ref === "string") {
      const name = schema.$ref.split("/").pop()!;
      if (seen.has(name)) return;
      return walk(schemas[name], `${where}>${name}`, new Set([...seen, name]));
    }
    const properties = schema.properties as Record<string, unknown> | undefined;
    if (properties && schema.additionalProperties !== false) found.push(where);
    for (const [key, child] of Object.entries(schema)) {
      if (key === "properties") {
        for (const [name, sub] of Object.entries(child as Json)) {
          walk(sub, `${where}.${name}`, seen);
        }
      } else if (key !== "example" && key !== "examples") walk(child, where, seen);
    }
  };
  for (const body of jsonBodies(doc)) {
    walk(body.schema, `${body.method.toUpperCase()} ${body.path}`, new Set());
  }
  return found;
}

Deno.test("openapi: the document validates, and every route's example request fits", async (t) => {
  const ctx = await testApp();
  const doc = await (await ctx.app.request("/openapi.json")).json() as Json;

  await t.step("a real OpenAPI 3.1 validator accepts it", async () => {
    await SwaggerParser.validate(structuredClone(doc) as never);
  });

  await t.step("info.description names what the service does", () => {
    const description = (doc.info as Json).description as string;
    for (const capability of ["Simfluence", "EK-FAC", "TracIn", "projection", "WebGPU"]) {
      assert.ok(description.includes(capability), `description lacks ${capability}`);
    }
  });

  await t.step("no allOf of closed objects (nothing could satisfy one)", () => {
    assert.deepEqual(closedObjectsUnderAllOf(doc), []);
  });

  await t.step("every object in every JSON body is closed (unknown keys are refused)", () => {
    assert.deepEqual(openObjectsInBodies(doc), []);
  });

  const ajv = new Ajv2020({ strict: false, validateFormats: false, allErrors: true });
  ajv.addSchema({ $id: "openapi", components: rebased(doc.components) });

  await t.step("every component schema compiles as JSON Schema 2020-12", () => {
    const schemas = (doc.components as Json).schemas as Record<string, Json>;
    for (const name of Object.keys(schemas)) {
      assert.ok(ajv.getSchema(`openapi#/components/schemas/${name}`), name);
    }
  });

  const bodies = jsonBodies(doc);
  assert.ok(bodies.length >= 14, `only ${bodies.length} JSON request bodies`);

  await t.step("every JSON request body has an example that its schema accepts", () => {
    for (const body of bodies) {
      const where = `${body.method.toUpperCase()} ${body.path}`;
      assert.notEqual(body.example, undefined, `${where} has no example`);
      const validate = ajv.compile(rebased(body.schema));
      assert.ok(
        validate(body.example),
        `${where}: example rejected: ${JSON.stringify(validate.errors)}`,
      );
    }
  });

  await t.step("and the route itself accepts the example's shape", async () => {
    for (const body of bodies) {
      const path = body.path.replaceAll(/\{\w+\}/g, "00000000-0000-4000-8000-000000000000");
      const res = await ctx.app.request(path, {
        method: body.method.toUpperCase(),
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body.example),
      });
      const text = await res.text();
      const answer = res.status >= 400 ? JSON.parse(text) : null;
      // The ids in an example name nothing stored here and the GPU is a fake, so 404s, 409s and
      // 503s are expected; a validation failure or a 500 is not.
      assert.ok(
        res.status !== 500 && answer?.error?.code !== "validation_failed",
        `${body.method.toUpperCase()} ${body.path}: ${res.status} ${JSON.stringify(answer)}`,
      );
    }
  });

  await ctx.close();
});
