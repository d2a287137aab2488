// Request schemas as client generators read them. A field with a `default` may be left out of a
// request, and the document says so (it is not in `required`). But generators such as
// openapi-typescript (v7, default settings) take a `default` inside `components/schemas` to mean
// "always present", which is true of answers and false of requests: a generated client then
// demands every defaulted field of every request. They read a `default` under a request body or
// a parameter as optional. So every component schema that carries a `default` (at any depth) is
// written inline where a request body or a parameter uses it; components that only requests used
// are then dropped, and answers keep their `$ref`s.

type Json = Record<string, unknown>;

const SCHEMA_REF = "#/components/schemas/";
const SCHEMA_MAPS = new Set(["properties", "patternProperties", "$defs", "dependentSchemas"]);

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function hasDefault(node: unknown, schemas: Json, seen: Set<string>): boolean {
  if (Array.isArray(node)) return node.some((item) => hasDefault(item, schemas, seen));
  if (!isObject(node)) return false;
  if ("default" in node) return true;
  const ref = node.$ref;
  if (typeof ref === "string" && ref.startsWith(SCHEMA_REF)) {
    const name = ref.slice(SCHEMA_REF.length);
    if (seen.has(name)) return false;
    seen.add(name);
    return hasDefault(schemas[name], schemas, seen);
  }
  return Object.entries(node).some(([key, child]) => {
    if (key === "example" || key === "examples") return false;
    // Under these keys a "default" would be a field's name, not a schema's default.
    if (SCHEMA_MAPS.has(key) && isObject(child)) {
      return Object.values(child).some((schema) => hasDefault(schema, schemas, seen));
    }
    return hasDefault(child, schemas, seen);
  });
}

/** `node` with every `$ref` to a defaulted component replaced by that component, recursively. */
function inlineDefaulted(node: unknown, schemas: Json, defaulted: Set<string>, path: string[]) {
  if (Array.isArray(node)) {
    return node.map((item): unknown => inlineDefaulted(item, schemas, defaulted, path));
  }
  if (!isObject(node)) return node;
  const ref = node.$ref;
  if (typeof ref === "string" && ref.startsWith(SCHEMA_REF)) {
    const name = ref.slice(SCHEMA_REF.length);
    // A schema that contains itself cannot be written out; it keeps its reference.
    if (defaulted.has(name) && !path.includes(name)) {
      const { $ref: _, ...siblings } = node;
      const inlined = inlineDefaulted(schemas[name], schemas, defaulted, [...path, name]) as Json;
      return { ...inlined, ...siblings };
    }
    return node;
  }
  const out: Json = {};
  for (const [key, child] of Object.entries(node)) {
    out[key] = key === "example" || key === "examples"
      ? child
      : inlineDefaulted(child, schemas, defaulted, path);
  }
  return out;
}

function referencedSchemas(node: unknown, found: Set<string>): Set<string> {
  if (Array.isArray(node)) node.forEach((item) => referencedSchemas(item, found));
  if (!isObject(node)) return found;
  const ref = node.$ref;
  if (typeof ref === "string" && ref.startsWith(SCHEMA_REF)) {
    found.add(ref.slice(SCHEMA_REF.length));
  }
  for (const child of Object.values(node)) referencedSchemas(child, found);
  return found;
}

/** The OpenAPI document with request schemas that carry defaults inlined (see above). */
export function inlineDefaultedRequestSchemas<T extends object>(document: T): T {
  const doc = structuredClone(document) as Json;
  const components = isObject(doc.components) ? doc.components : {};
  const schemas = isObject(components.schemas) ? components.schemas : {};
  const defaulted = new Set(
    Object.keys(schemas).filter((name) => hasDefault(schemas[name], schemas, new Set([name]))),
  );
  if (defaulted.size === 0) return doc as T;

  for (const item of Object.values(isObject(doc.paths) ? doc.paths : {})) {
    if (!isObject(item)) continue;
    if (Array.isArray(item.parameters)) {
      item.parameters = inlineDefaulted(item.parameters, schemas, defaulted, []);
    }
    for (const operation of Object.values(item)) {
      if (!isObject(operation)) continue;
      for (const key of ["requestBody", "parameters"]) {
        if (key in operation) {
          operation[key] = inlineDefaulted(operation[key], schemas, defaulted, []);
        }
      }
    }
  }

  // Drop the components nothing refers to any more (a component used by answers stays).
  let kept = new Set<string>();
  let next = referencedSchemas({ paths: doc.paths, rest: { ...components, schemas: {} } }, kept);
  do {
    kept = next;
    next = new Set(kept);
    for (const name of kept) referencedSchemas(schemas[name], next);
  } while (next.size > kept.size);
  for (const name of Object.keys(schemas)) {
    if (!kept.has(name)) delete schemas[name];
  }
  return doc as T;
}
