// Built-in datasets: the synthetic skills family (deterministic, answers right) and the
// SpamAssassin classification task read from the npm data package.
import assert from "node:assert/strict";
import { BUILTIN_DATASETS } from "../../src/datasets/builtins.ts";
import { isPromptCompletion } from "../../src/datasets/example.ts";
import { loadDatasetExamples } from "../../src/datasets/load.ts";
import { skillExamples, SKILLS } from "../../src/datasets/skills.ts";
import { emailLabel, emailPrompt, MAX_EMAIL_CHARS, spamExamples } from "../../src/datasets/spam.ts";
import { testApp } from "../helpers/app.ts";

Deno.test("builtin:skills is deterministic, balanced and correct", async (t) => {
  const examples = skillExamples();
  await t.step("same seed, same examples; another seed differs", () => {
    assert.deepEqual(skillExamples(), examples);
    assert.notDeepEqual(skillExamples(7), examples);
  });
  await t.step("every skill has its share, ids carry the skill", () => {
    for (const skill of SKILLS) {
      const mine = examples.filter((e) => e.id.startsWith(`${skill}-`));
      assert.equal(mine.length, examples.length / SKILLS.length, skill);
    }
    assert.equal(new Set(examples.map((e) => e.id)).size, examples.length);
  });
  await t.step("completions solve the prompts", () => {
    for (const e of examples) {
      assert.ok(isPromptCompletion(e));
      const [, skill, digits] = /^(\w+) (\d+)=$/.exec(e.prompt)!;
      const expected = {
        add1: String(Number(digits) + 1),
        rev: [...digits].reverse().join(""),
        sort: [...digits].sort().join(""),
        copy: digits,
      }[skill];
      assert.equal(e.completion, expected, e.prompt);
      assert.ok(digits.length >= 2 && digits.length <= 5);
    }
  });
});

Deno.test("builtin:spam reads the SpamAssassin corpus from its npm package", async (t) => {
  const examples = await spamExamples();
  const record = BUILTIN_DATASETS.find((d) => d.record.id === "builtin:spam")!.record;
  await t.step("every email, unique ids, the listed count", () => {
    assert.equal(examples.length, record.examples);
    assert.equal(new Set(examples.map((e) => e.id)).size, examples.length);
  });
  await t.step("labels follow the corpus groups", () => {
    const spam = examples.filter((e) => isPromptCompletion(e) && e.completion === " spam");
    assert.ok(spam.every((e) => e.id.startsWith("spam-")));
    assert.equal(spam.length, 500 + 1396);
    assert.ok(examples.every((e) => isPromptCompletion(e) && /^ (spam|ham)$/.test(e.completion)));
  });
  await t.step("prompts are cut to the limit and end in the label cue", () => {
    for (const e of examples) {
      if (!isPromptCompletion(e)) continue;
      assert.ok(e.prompt.endsWith("\nLabel:"));
      assert.ok([...e.prompt].length <= MAX_EMAIL_CHARS + "\nLabel:".length);
    }
  });
  await t.step("subject and body, headers dropped", () => {
    const raw = "From: x@y\nSubject: Cheap\n  pills\nX-Other: 1\n\nBuy   now\n\nplease";
    assert.equal(emailPrompt(raw), "Subject: Cheap pills\nBuy now please\nLabel:");
    assert.equal(emailPrompt(raw, 10), "Subject: C\nLabel:");
    assert.equal(emailLabel("spam-2"), " spam");
    assert.equal(emailLabel("hard-ham-1"), " ham");
  });
});

Deno.test("built-ins over HTTP and through loadDatasetExamples", async () => {
  const ctx = await testApp();
  try {
    const res = await ctx.app.request("/v1/datasets/builtin:skills?limit=3");
    assert.equal(res.status, 200);
    const page = await res.json();
    assert.equal(page.dataset.examples, 1000);
    assert.deepEqual(page.examples, skillExamples().slice(0, 3));
    const spam = await (await ctx.app.request("/v1/datasets/builtin:spam?limit=1&offset=6045"))
      .json();
    assert.match(spam.examples[0].id, /^spam-2-\d+$/);
    assert.equal(spam.examples[0].completion, " spam");
    const some = await loadDatasetExamples(ctx.store, "builtin:skills", ["rev-3", "add1-0"]);
    assert.deepEqual(some.map((e) => e.id), ["rev-3", "add1-0"]);
  } finally {
    await ctx.close();
  }
});
