// Failed-authentication counting shared by a cluster, on a real PostgreSQL: wrong tokens spread
// over two nodes are limited as one node limits them; every node then answers 429 with
// Retry-After, a node that starts later knows the block, other addresses are unaffected, and the
// window ends on every node.
import assert from "node:assert/strict";
import { PostgresBus } from "../../src/cluster/bus.ts";
import { SharedFailedAuthLimiter } from "../../src/cluster/auth_failures.ts";
import { migrateSharedHttpState } from "../../src/cluster/shared_http_state.ts";
import { memoryLogger } from "../../src/log.ts";
import { PostgresStore } from "../../src/store/postgres.ts";
import { testApp, until } from "../helpers/app.ts";
import { freshDatabase, postgresAvailable } from "../helpers/postgres.ts";

const WRITE = "write-token-0123456789";
const TOKENS = `ci:write:${WRITE}`;
const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });
/** Hono hands Deno.serve's connection info to middleware as `env`; tests pass it themselves. */
const from = (address: string) => ({ remoteAddr: { hostname: address } });

async function startNode(url: string, limits: { maxFailures: number; windowMs: number }) {
  const dataDir = await Deno.makeTempDir({ prefix: "simfluence-node-" });
  const store = await PostgresStore.open({ url, dataDir });
  migrateSharedHttpState(store);
  const logger = memoryLogger();
  const bus = await PostgresBus.open(url, store.db, logger);
  const authFailures = new SharedFailedAuthLimiter({ db: store.db, bus, logger, ...limits });
  const ctx = await testApp({
    env: { SIMFLUENCE_API_TOKENS: TOKENS },
    streaming: { authFailures },
  });
  return {
    authFailures,
    request: (token: string, address: string) =>
      ctx.app.request("/v1/jobs", { headers: bearer(token) }, from(address)),
    async close() {
      authFailures.close();
      await bus.close();
      store.close();
      await ctx.close();
      await Deno.remove(dataDir, { recursive: true });
    },
  };
}

Deno.test({
  name: "cluster auth: guesses spread over nodes are counted together; every node refuses after",
  ignore: !postgresAvailable,
  async fn() {
    const url = freshDatabase();
    const limits = { maxFailures: 4, windowMs: 1_500 };
    const a = await startNode(url, limits);
    const b = await startNode(url, limits);
    let c: Awaited<ReturnType<typeof startNode>> | null = null;
    try {
      // Four wrong tokens, alternating nodes: each is a 401 (one node alone saw only two).
      for (let i = 0; i < 4; i++) {
        const res = await (i % 2 ? b : a).request(`guess-${i}`, "10.0.0.1");
        assert.equal(res.status, 401);
        await res.body?.cancel();
      }
      // The block reaches the other node over the bus.
      await until(() => a.authFailures.blockedForMs("10.0.0.1") > 0);
      await until(() => b.authFailures.blockedForMs("10.0.0.1") > 0);
      for (const node of [a, b]) {
        const limited = await node.request(WRITE, "10.0.0.1");
        assert.equal(limited.status, 429);
        const retryAfter = Number(limited.headers.get("retry-after"));
        assert.ok(retryAfter >= 1 && retryAfter <= 2, `Retry-After ${retryAfter}`);
        assert.equal((await limited.json()).error.code, "too_many_failed_authentications");
      }
      // A node that starts now reads the block from the table.
      c = await startNode(url, limits);
      assert.ok(c.authFailures.blockedForMs("10.0.0.1") > 0);
      // Another address is unaffected, on every node.
      for (const node of [a, b, c]) {
        const res = await node.request(WRITE, "10.0.0.2");
        assert.equal(res.status, 200);
        await res.body?.cancel();
      }
      // The window ends everywhere, and a new one starts from zero.
      await until(() => a.authFailures.blockedForMs("10.0.0.1") === 0, 3_000);
      for (const node of [a, b, c]) {
        const res = await node.request(WRITE, "10.0.0.1");
        assert.equal(res.status, 200);
        await res.body?.cancel();
      }
      const again = await b.request("guess-again", "10.0.0.1");
      assert.equal(again.status, 401);
      await again.body?.cancel();
      assert.equal(a.authFailures.blockedForMs("10.0.0.1"), 0);
    } finally {
      await a.close();
      await b.close();
      await c?.close();
    }
  },
});
