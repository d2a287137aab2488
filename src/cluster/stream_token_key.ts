// The key that signs stream tokens (src/http/stream_tokens.ts), shared by a cluster's nodes: a
// token minted on one node must open its stream on any other. Drawn once, by the first node that
// asks, and kept in PostgreSQL; a single process keeps drawing its own per start.
import { Buffer } from "node:buffer";
import { randomBytes } from "node:crypto";
import type { Migration } from "../store/migrations.ts";
import type { SqlDatabase } from "../store/sql/database.ts";

export const CLUSTER_SECRETS = {
  name: "cluster_secrets",
  postgresMigrations: [
    {
      name: "cluster_secrets",
      up(db) {
        db.exec("CREATE TABLE cluster_secrets (name TEXT PRIMARY KEY, value TEXT NOT NULL)");
      },
    },
  ] as readonly Migration[],
};

/** The cluster's stream-token key: the stored one, or a new one stored first by whoever asks. */
export function clusterStreamTokenKey(db: SqlDatabase): Uint8Array {
  db.prepare("INSERT INTO cluster_secrets (name, value) VALUES (?, ?) ON CONFLICT DO NOTHING")
    .run("stream_tokens", randomBytes(32).toString("hex"));
  const row = db.prepare("SELECT value FROM cluster_secrets WHERE name = ?").get("stream_tokens") as
    | { value: string }
    | undefined;
  return Uint8Array.from(Buffer.from(row!.value, "hex"));
}
