// Datasets generated in code or read from an npm data package: always listed, never stored, and
// addressed by stable ids.
import type { DatasetExample } from "./example.ts";
import type { DatasetRecord } from "./dataset_store.ts";
import { EXAMPLES_PER_SKILL, skillExamples, SKILLS } from "./skills.ts";
import { MAX_EMAIL_CHARS, SPAM_CORPUS_SIZE, spamExamples } from "./spam.ts";

export interface BuiltinDataset {
  record: DatasetRecord;
  load(): Promise<DatasetExample[]>;
}

let skills: DatasetExample[] | null = null;

export const BUILTIN_DATASETS: readonly BuiltinDataset[] = [
  {
    record: {
      id: "builtin:skills",
      name: "skills",
      source: "builtin",
      examples: SKILLS.length * EXAMPLES_PER_SKILL,
      format: "prompt_completion",
      description: `Synthetic multi-skill digit tasks (${SKILLS.join(", ")}), ` +
        `${EXAMPLES_PER_SKILL} each, ids "<skill>-<i>", e.g. "rev 4821=" → "1284". The skills ` +
        "share inputs but disagree on outputs, so the order and mix of training examples matter.",
      createdAt: null,
    },
    load: () => Promise.resolve(skills ??= skillExamples()),
  },
  {
    record: {
      id: "builtin:spam",
      name: "spam",
      source: "builtin",
      examples: SPAM_CORPUS_SIZE,
      format: "prompt_completion",
      description: "SpamAssassin public corpus as classification: subject and body start (at " +
        `most ${MAX_EMAIL_CHARS} characters) + "\\nLabel:" → " spam" or " ham". Ids ` +
        '"<group>-<number>", groups easy-ham-1, easy-ham-2, hard-ham-1, spam-1, spam-2.',
      createdAt: null,
    },
    load: spamExamples,
  },
];

export function builtinDataset(id: string): BuiltinDataset | null {
  return BUILTIN_DATASETS.find((d) => d.record.id === id) ?? null;
}
