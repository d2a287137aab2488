// The documentation travels with the code: every link in README.md and docs/ points at a file of
// this repository (or a local service address), never at another checkout or the web.
import assert from "node:assert/strict";
import { dirname, join } from "node:path";

const ROOT = new URL("../../", import.meta.url).pathname;

async function markdownFiles(): Promise<string[]> {
  const files = ["README.md"];
  for await (const entry of Deno.readDir(join(ROOT, "docs"))) {
    if (entry.isFile && entry.name.endsWith(".md")) files.push(join("docs", entry.name));
  }
  return files;
}

/** Link targets of [text](target) and ![alt](target), outside code spans and blocks. */
function linkTargets(markdown: string): string[] {
  const prose = markdown.replace(/```[\s\S]*?```/g, "").replace(/`[^`\n]*`/g, "");
  return [...prose.matchAll(/!?\[[^\]]*\]\(([^)\s]+)[^)]*\)/g)].map((m) => m[1]);
}

// A local address ends its host there: not "localhost.example.com".
const LOCAL = /^https?:\/\/(127\.0\.0\.1|localhost)(:\d+)?(?![\w.-])/;

Deno.test("docs: links stay inside the repository", async () => {
  const files = await markdownFiles();
  assert.ok(files.includes(join("docs", "api.md")) && files.includes(join("docs", "cli.md")));
  for (const file of files) {
    const text = await Deno.readTextFile(join(ROOT, file));
    for (const target of linkTargets(text)) {
      if (target.startsWith("#") || LOCAL.test(target)) continue;
      assert.ok(!/^[a-z]+:/i.test(target), `${file} links outside the repository: ${target}`);
      const path = join(ROOT, dirname(file), target.split("#")[0]);
      assert.ok(path.startsWith(ROOT), `${file} links above the repository: ${target}`);
      const exists = await Deno.stat(path).then(() => true, () => false);
      assert.ok(exists, `${file} links to a missing file: ${target}`);
    }
    // Bare addresses in prose count too (code blocks may show local service addresses).
    for (const url of text.matchAll(/https?:\/\/[^\s)`'"]+/g)) {
      assert.ok(LOCAL.test(url[0]), `${file} names an outside address: ${url[0]}`);
    }
  }
});

Deno.test("docs: what counts as a local address", () => {
  assert.ok(LOCAL.test("http://127.0.0.1:8787,"));
  assert.ok(LOCAL.test("http://localhost/v1"));
  assert.ok(!LOCAL.test("http://localhost.example.com/"));
  assert.ok(!LOCAL.test("https://example.com/"));
});

Deno.test("docs: linkTargets finds links and images, not code", () => {
  assert.deepEqual(
    linkTargets('see [a](docs/a.md) and ![b](x.png "t") but `[c](d.md)`\n```\n[e](f)\n```'),
    ["docs/a.md", "x.png"],
  );
});
