// Writes the disk refuses (full, read-only, not permitted) become 507 JSON errors, from SQLite and
// from file writes alike; other errors are left alone.
import assert from "node:assert/strict";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { toApiError } from "../../src/http/api_error.ts";
import { storageFailure } from "../../src/store/storage_error.ts";

function osError(code: string): Error {
  return Object.assign(new Error(`${code} (os error)`), { code });
}

Deno.test("refused file writes map to 507 insufficient_storage", () => {
  for (const code of ["ENOSPC", "EDQUOT", "EROFS", "EACCES"]) {
    const api = toApiError(osError(code));
    assert.equal(api?.status, 507, code);
    assert.equal(api?.code, "insufficient_storage");
    assert.equal((api?.details as { cause: string }).cause, code);
  }
  assert.equal(storageFailure(osError("ENOENT")), null);
  assert.equal(storageFailure(new TypeError("x is undefined")), null);
  assert.equal(toApiError(new Error("boom")), null);
});

Deno.test("a write to a read-only SQLite database maps to 507", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = join(dir, "x.db");
    const writable = new DatabaseSync(path);
    writable.exec("CREATE TABLE t (x INTEGER)");
    writable.close();
    const db = new DatabaseSync(path, { readOnly: true });
    let error: unknown = null;
    try {
      db.exec("INSERT INTO t VALUES (1)");
    } catch (e) {
      error = e;
    } finally {
      db.close();
    }
    assert.ok(error instanceof Error);
    assert.equal(toApiError(error)?.status, 507, String(error));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("SQLite's disk-full message maps to 507", () => {
  assert.equal(toApiError(new Error("database or disk is full"))?.status, 507);
});
