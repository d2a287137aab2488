// Reading datasets, uploaded or built-in, for routes and for the training and scoring code.
import { InvalidInputError, NotFoundError } from "../errors.ts";
import type { Store } from "../store/store.ts";
import { BUILTIN_DATASETS, builtinDataset } from "./builtins.ts";
import type { DatasetRecord } from "./dataset_store.ts";
import type { DatasetExample } from "./example.ts";
import { DATASETS } from "./dataset_store.ts";

/** A page of the datasets: built-ins first, then uploads oldest first. */
export function listDatasets(
  store: Store,
  page: { limit: number; offset: number },
): { datasets: DatasetRecord[]; total: number } {
  const uploads = store.get(DATASETS);
  const builtins = BUILTIN_DATASETS.slice(page.offset, page.offset + page.limit)
    .map((d) => d.record);
  const uploadOffset = Math.max(0, page.offset - BUILTIN_DATASETS.length);
  const datasets = [...builtins, ...uploads.list(uploadOffset, page.limit - builtins.length)];
  return { datasets, total: BUILTIN_DATASETS.length + uploads.count() };
}

/** By id (built-in or uploaded) or by an upload's name; 404 when unknown. */
export function datasetRecord(store: Store, id: string): DatasetRecord {
  const record = builtinDataset(id)?.record ?? store.get(DATASETS).get(id);
  if (!record) throw new NotFoundError(`dataset ${id}`, { field: "dataset", id });
  return record;
}

/** A page of examples in dataset order; 404 when the dataset is unknown. */
export async function datasetPage(
  store: Store,
  id: string,
  offset: number,
  limit: number,
): Promise<DatasetExample[]> {
  const builtin = builtinDataset(id);
  if (builtin) return (await builtin.load()).slice(offset, offset + limit);
  datasetRecord(store, id);
  return store.get(DATASETS).page(id, offset, limit);
}

function listSome(ids: readonly string[], n = 20): string[] {
  return ids.length > n ? [...ids.slice(0, n), `… ${ids.length - n} more`] : [...ids];
}

/**
 * The dataset's examples: all in dataset order, or those in `ids` in that order. 404 when the
 * dataset is unknown, 400 listing the ids it does not contain.
 */
export async function loadDatasetExamples(
  store: Store,
  id: string,
  ids?: readonly string[],
): Promise<DatasetExample[]> {
  const builtin = builtinDataset(id);
  let all: DatasetExample[];
  if (builtin) all = await builtin.load();
  else {
    datasetRecord(store, id);
    all = store.get(DATASETS).all(id);
  }
  if (ids === undefined) return all;
  const byId = new Map(all.map((e) => [e.id, e]));
  const unknown = ids.filter((x) => !byId.has(x));
  if (unknown.length > 0) {
    throw new InvalidInputError(
      `${unknown.length} id(s) are not in dataset ${id}: ${unknown.slice(0, 5).join(", ")}` +
        (unknown.length > 5 ? ", …" : ""),
      { field: "ids", dataset: id, unknown: listSome(unknown) },
      "unknown_example_ids",
    );
  }
  return ids.map((x) => byId.get(x)!);
}
