// The kronfluence fixture (tests/fixtures/influence/): the checkpoint read through the project's
// own loaders (config schema, safetensors parameters, tokenizer.json), the examples tokenized the
// way the service tokenizes them, and kronfluence's expected scores.
import { parseGpt2Config } from "../../src/gpt2/config.ts";
import { loadParams, type ParamSet } from "../../src/gpt2/params.ts";
import type { Gpt2Config } from "../../src/gpt2/config.ts";
import type { DatasetExample } from "../../src/datasets/example.ts";
import { type ExampleTokens, tokenizeExample } from "../../src/text/example_tokens.ts";
import { hfTokenizer } from "../../src/text/hf_tokenizer.ts";

const DIR = new URL("../fixtures/influence/", import.meta.url);

export interface SettingExpected {
  settings: {
    strategy: "ekfac" | "kfac" | "diagonal" | "identity";
    modules: "mlp" | "all";
    damping: number | null;
    query_rank?: number;
  };
  /** [query][train]. */
  scores: number[][];
  per_module?: Record<string, number[][]>;
  /** query id → train id → score per train token position. */
  per_token?: Record<string, Record<string, number[]>>;
  self?: number[];
  bm25?: number[][];
}

export interface InfluenceFixture {
  config: Gpt2Config;
  params: ParamSet;
  train: (ExampleTokens & { id: string })[];
  queries: (ExampleTokens & { id: string })[];
  expected: {
    train_ids: string[];
    query_ids: string[];
    settings: Record<string, SettingExpected>;
    conventions: Record<string, unknown>;
  };
}

function readJsonl(name: string): DatasetExample[] {
  return Deno.readTextFileSync(new URL(name, DIR)).split("\n").filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l));
}

let cached: InfluenceFixture | null = null;

export function influenceFixture(): InfluenceFixture {
  if (cached) return cached;
  const config = parseGpt2Config(JSON.parse(Deno.readTextFileSync(new URL("config.json", DIR))));
  const params = loadParams(Deno.readFileSync(new URL("model.safetensors", DIR)), config);
  const tokenizer = hfTokenizer(Deno.readTextFileSync(new URL("tokenizer.json", DIR)));
  const encode = (e: DatasetExample) => ({ id: e.id, ...tokenizeExample(tokenizer, e) });
  cached = {
    config,
    params,
    train: readJsonl("train.jsonl").map(encode),
    queries: readJsonl("queries.jsonl").map(encode),
    expected: JSON.parse(Deno.readTextFileSync(new URL("expected.json", DIR))),
  };
  return cached;
}
