// What the dataset routes ask of datasets beyond reading them (load.ts): storing an uploaded
// JSONL file and deleting an upload. Failures are DomainErrors (src/errors.ts).
import { InvalidInputError, NotFoundError } from "../errors.ts";
import { checkIdentifier } from "../identifiers.ts";
import type { Store } from "../store/store.ts";
import { builtinDataset } from "./builtins.ts";
import { type DatasetRecord, DATASETS } from "./dataset_store.ts";
import { parseDatasetJsonl } from "./jsonl.ts";

/** Parses and stores a JSONL upload; nothing is stored unless every line is valid. */
export function uploadDataset(store: Store, name: string, jsonl: string): DatasetRecord {
  checkIdentifier(name, "name");
  const examples = parseDatasetJsonl(jsonl, name);
  return store.get(DATASETS).create(name, examples);
}

/** Deletes an uploaded dataset; built-ins cannot be deleted, unknown ids are NotFoundErrors. */
export function deleteDataset(store: Store, id: string): void {
  if (builtinDataset(id)) {
    throw new InvalidInputError(`${id} is built in and cannot be deleted`, { field: "id", id });
  }
  if (!store.get(DATASETS).delete(id)) {
    throw new NotFoundError(`dataset ${id}`, { field: "id", id });
  }
}
