// One tensor file's bytes from the source's blob store to the target's, checked against the
// SHA-256 its tensor_files row recorded: before it is written (a damaged source file is reported,
// never carried into the cluster) and read back after (what the cluster will read is what the
// single node had). A blob the target already holds with the right checksum (a resumed copy, or a
// target folder that is the source's own) is not written again; one with other bytes is never
// overwritten.
import type { BlobStore } from "../blobs/blob_store.ts";
import { sha256Hex } from "../tensor_files.ts";
import { CopyError } from "./copy_error.ts";

export interface TensorFileRow {
  id: string;
  file: string;
  sha256: string;
}

export type TensorOutcome = { written: true; bytes: number } | { written: false; bytes: number };

export async function copyTensorFile(
  row: TensorFileRow,
  from: BlobStore,
  to: BlobStore,
): Promise<TensorOutcome> {
  const where = `tensor file ${row.id} (${row.file})`;
  const present = await to.get(row.file);
  if (present !== null) {
    if (sha256Hex(present) === row.sha256) return { written: false, bytes: present.byteLength };
    throw new CopyError(
      `the target blob store already holds ${row.file} with other bytes than ${where} ` +
        "recorded; refusing to overwrite it",
    );
  }
  const bytes = await from.get(row.file);
  if (bytes === null) {
    throw new CopyError(
      `${where} is missing from the source's blob store (${from.describe().location})`,
    );
  }
  const actual = sha256Hex(bytes);
  if (actual !== row.sha256) {
    throw new CopyError(
      `${where} in the source is corrupt: SHA-256 ${actual}, recorded ${row.sha256}; ` +
        "nothing of it was copied",
    );
  }
  await to.put(row.file, bytes);
  const back = await to.get(row.file);
  if (back === null || sha256Hex(back) !== row.sha256) {
    throw new CopyError(
      `${where} read back from the target blob store does not match its checksum ` +
        `(${to.describe().location})`,
    );
  }
  return { written: true, bytes: bytes.byteLength };
}
