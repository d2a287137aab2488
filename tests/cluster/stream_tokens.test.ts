// A stream token minted on one node opens its stream on another: the nodes of a cluster sign with
// one key, drawn once and kept in PostgreSQL. A single process still draws its own.
import assert from "node:assert/strict";
import { clusterStreamTokenKey } from "../../src/cluster/stream_token_key.ts";
import { migrate } from "../../src/store/migrations.ts";
import { PostgresDatabase } from "../../src/store/sql/postgres_database.ts";
import { CLUSTER_SECRETS } from "../../src/cluster/stream_token_key.ts";
import { StreamTokens } from "../../src/http/stream_tokens.ts";
import { freshDatabase, postgresAvailable } from "../helpers/postgres.ts";

Deno.test({
  name: "cluster: stream tokens minted on one node verify on another",
  ignore: !postgresAvailable,
  async fn() {
    const url = freshDatabase();
    const a = await PostgresDatabase.connect({ url });
    const b = await PostgresDatabase.connect({ url });
    try {
      migrate(a, CLUSTER_SECRETS.name, CLUSTER_SECRETS.postgresMigrations);
      const onA = new StreamTokens({ key: clusterStreamTokenKey(a) });
      const onB = new StreamTokens({ key: clusterStreamTokenKey(b) });
      const { token } = onA.mint("/v1/jobs/j1/events");
      assert.ok(onB.verify(token, "/v1/jobs/j1/events"));
      assert.ok(!onB.verify(token, "/v1/jobs/j2/events"));
      // A process of its own draws another key: the token means nothing there.
      assert.ok(!new StreamTokens().verify(token, "/v1/jobs/j1/events"));
    } finally {
      a.close();
      b.close();
    }
  },
});
