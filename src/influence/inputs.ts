// Turning an influence request's examples into sequences the model can take: loaded from a
// dataset or given inline, tokenized like /v1/models/:id/losses, and checked against the model's
// context, every failure naming the example and the field.
import type { DatasetExample } from "../datasets/example.ts";
import { loadDatasetExamples } from "../datasets/load.ts";
import { DomainError, InvalidInputError, NotFoundError } from "../errors.ts";
import { tokenizeExample } from "../text/example_tokens.ts";
import type { TextTokenizer } from "../text/tokenizer.ts";
import type { Sequence } from "./sequences.ts";

export type InlineExample =
  | { id?: string; text: string }
  | { id?: string; prompt: string; completion: string };

/** A dataset's examples (all, or `ids` in that order). */
export async function datasetExamples(
  store: Parameters<typeof loadDatasetExamples>[0],
  selection: { dataset: string; ids?: readonly string[] },
): Promise<DatasetExample[]> {
  return await loadDatasetExamples(store, selection.dataset, selection.ids);
}

/** Inline examples with ids: given ones, else q0, q1, … (which must then be unique too). */
export function inlineExamples(
  examples: readonly InlineExample[],
  field: string,
): DatasetExample[] {
  const out = examples.map((e, i) => ({ ...e, id: e.id ?? `q${i}` }) as DatasetExample);
  const seen = new Set<string>();
  for (const [i, e] of out.entries()) {
    if (seen.has(e.id)) {
      throw new InvalidInputError(`${field}: id "${e.id}" appears twice`, {
        field: `${field}.${i}.id`,
      }, "duplicate_id");
    }
    seen.add(e.id);
  }
  return out;
}

/** Tokenized sequences; 400 naming the first example longer than the context or empty. */
export function encodeSequences(
  tokenizer: TextTokenizer,
  examples: readonly DatasetExample[],
  contextLength: number,
  field: string,
): Sequence[] {
  return examples.map((example, index) => {
    const { tokens, lossMask } = tokenizeExample(tokenizer, example);
    if (tokens.length > contextLength) {
      throw new InvalidInputError(
        `${field}: example "${example.id}" has ${tokens.length} tokens, more than the model's ` +
          `context of ${contextLength} (n_positions)`,
        { field, index, id: example.id, tokens: tokens.length, nPositions: contextLength },
        "context_too_long",
      );
    }
    if (tokens.length === 0) {
      throw new InvalidInputError(`${field}: example "${example.id}" has no tokens`, {
        field,
        index,
        id: example.id,
      }, "empty_example");
    }
    return { id: example.id, tokens, lossMask };
  });
}

/** A selection's examples; its errors name the request's field (`train.ids`, `queries.dataset`). */
export async function selectionExamples(
  store: Parameters<typeof loadDatasetExamples>[0],
  selection: { dataset: string; ids?: readonly string[] },
  field: "train" | "queries",
): Promise<DatasetExample[]> {
  try {
    return await datasetExamples(store, selection);
  } catch (e) {
    const details = e instanceof DomainError ? e.details as Record<string, unknown> | null : null;
    const inner = details?.field;
    if (inner !== "ids" && inner !== "dataset") throw e;
    const named = { ...details, field: `${field}.${inner}` };
    if (e instanceof InvalidInputError) {
      throw new InvalidInputError(`${field}: ${e.message}`, named, e.code);
    }
    if (e instanceof NotFoundError) {
      throw new NotFoundError(`${field}: dataset ${selection.dataset}`, named);
    }
    throw e;
  }
}

/** Queries as a request gives them: dataset examples (maybe some ids) or examples inline. */
export type QuerySelection =
  | { dataset: string; ids?: readonly string[] }
  | { examples: readonly InlineExample[] };

/**
 * The queries of a request, encoded, each with a token to measure (its loss is summed over its
 * labelled tokens), and where they came from; 4xx naming `queries…` otherwise.
 */
export async function measuredQueries(
  store: Parameters<typeof loadDatasetExamples>[0],
  selection: QuerySelection,
  tokenizer: TextTokenizer,
  contextLength: number,
): Promise<{ queries: Sequence[]; source: { dataset: string | null; ids: string[] } }> {
  const examples = "dataset" in selection
    ? await selectionExamples(store, selection, "queries")
    : inlineExamples(selection.examples, "queries.examples");
  const source = {
    dataset: "dataset" in selection ? selection.dataset : null,
    ids: examples.map((e) => e.id),
  };
  const queries = encodeSequences(tokenizer, examples, contextLength, "queries");
  const empty = queries.findIndex((q) => !q.lossMask.slice(1).includes(1));
  if (empty >= 0) {
    throw new InvalidInputError(
      `query "${queries[empty].id}" has no token to measure (a text needs at least two tokens)`,
      { field: "queries", index: empty, id: queries[empty].id },
      "nothing_to_score",
    );
  }
  return { queries, source };
}
