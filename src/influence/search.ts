// BM25 search over a dataset (POST /v1/datasets/:id/search): the influence paper's binary-tf
// variant on token ids (bm25.ts), the dataset tokenized by a model's tokenizer or the byte-level
// one. Indexes are kept for the few most recently searched (dataset, tokenizer) pairs.
import type { DatasetExample } from "../datasets/example.ts";
import { isPromptCompletion } from "../datasets/example.ts";
import { datasetRecord, loadDatasetExamples } from "../datasets/load.ts";
import { loadModel } from "../models/load.ts";
import type { Store } from "../store/store.ts";
import { byteTokenizer, type TextTokenizer } from "../text/tokenizer.ts";
import { tokenizeExample } from "../text/example_tokens.ts";
import { Bm25Index } from "./bm25.ts";
import type { SearchRequest } from "./schemas.ts";

const CACHE_SIZE = 4;
interface SearchIndex {
  index: Bm25Index;
  examples: DatasetExample[];
  tokenizer: TextTokenizer;
}

const cache = new Map<string, SearchIndex>();

async function indexFor(
  store: Store,
  dataset: string,
  model: string | undefined,
): Promise<SearchIndex> {
  const record = datasetRecord(store, dataset);
  const key = `${dataset}|${record.createdAt ?? ""}|${model ?? "byte"}`;
  const hit = cache.get(key);
  if (hit) {
    cache.delete(key);
    cache.set(key, hit);
    return hit;
  }
  const tokenizer: TextTokenizer = model === undefined
    ? byteTokenizer
    : (await loadModel(store, model)).tokenizer;
  const examples = await loadDatasetExamples(store, dataset);
  const index = Bm25Index.build(examples.map((e) => tokenizeExample(tokenizer, e).tokens));
  const entry = { index, examples, tokenizer };
  cache.set(key, entry);
  if (cache.size > CACHE_SIZE) cache.delete(cache.keys().next().value!);
  return entry;
}

function textOf(e: DatasetExample): string {
  return isPromptCompletion(e) ? e.prompt + e.completion : e.text;
}

export async function searchDataset(store: Store, dataset: string, request: SearchRequest) {
  const { index, examples, tokenizer } = await indexFor(store, dataset, request.model);
  const query = tokenizer.encode(request.query);
  return {
    results: index.topK(query, request.top).map((hit) => ({
      id: examples[hit.index].id,
      score: hit.score,
      text: textOf(examples[hit.index]),
    })),
  };
}
