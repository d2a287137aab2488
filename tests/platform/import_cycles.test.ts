// The source tree has no import cycles (type-only imports included): capabilities depend on the
// platform (store, jobs, gpu, http), never the other way round, and the store core knows no
// capability. A cycle is reported as the chain of files that forms it.
import assert from "node:assert/strict";
import { dirname, join, normalize, relative } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = normalize(join(dirname(fileURLToPath(import.meta.url)), "..", ".."));
const SPECIFIER = /(?:^|\n)\s*(?:import|export)\b[^"'`;]*?from\s*["'](\.{1,2}\/[^"']+)["']/g;

async function sourceFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    const path = join(dir, entry.name);
    if (entry.isDirectory) out.push(...await sourceFiles(path));
    else if (entry.name.endsWith(".ts")) out.push(path);
  }
  return out;
}

async function importGraph(): Promise<Map<string, string[]>> {
  const files = [
    join(ROOT, "main.ts"),
    ...await sourceFiles(join(ROOT, "src")),
    ...await sourceFiles(join(ROOT, "routes")),
  ];
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const text = await Deno.readTextFile(file);
    const targets = [...text.matchAll(SPECIFIER)].map((m) => normalize(join(dirname(file), m[1])));
    graph.set(file, targets);
  }
  return graph;
}

/** One cycle per strongly connected component with more than one file (or a self-import). */
function findCycles(graph: Map<string, string[]>): string[][] {
  const cycles: string[][] = [];
  const state = new Map<string, "visiting" | "done">();
  const stack: string[] = [];
  const visit = (file: string) => {
    state.set(file, "visiting");
    stack.push(file);
    for (const next of graph.get(file) ?? []) {
      if (!graph.has(next)) continue;
      const s = state.get(next);
      if (s === "visiting") cycles.push([...stack.slice(stack.indexOf(next)), next]);
      else if (s === undefined) visit(next);
    }
    stack.pop();
    state.set(file, "done");
  };
  for (const file of graph.keys()) if (!state.has(file)) visit(file);
  return cycles;
}

Deno.test("no import cycles in main.ts, src/ and routes/", async () => {
  const graph = await importGraph();
  assert.ok(graph.size > 50, `only ${graph.size} files found under ${ROOT}`);
  const cycles = findCycles(graph).map((c) => c.map((f) => relative(ROOT, f)).join(" → "));
  assert.deepEqual(cycles, [], `import cycles:\n${cycles.join("\n")}`);
});

Deno.test("the cycle finder finds a cycle", () => {
  const graph = new Map([["a", ["b"]], ["b", ["c"]], ["c", ["a"]], ["d", ["a"]]]);
  assert.deepEqual(findCycles(graph), [["a", "b", "c", "a"]]);
});
