// The launcher's view of the runners above it (src/launch_chain.ts): which processes count as
// runners, where the chain ends, and what counts as broken. A fake process table stands in for
// /proc.
import assert from "node:assert/strict";
import { chainIntact, isRunner, launchChain, type ProcessInfo } from "../../src/launch_chain.ts";

Deno.test("isRunner: deno task, sh -c, npm/npx; not shells, supervisors or other deno", () => {
  assert.ok(isRunner(["deno", "task", "start"]));
  assert.ok(isRunner(["/home/u/.deno/bin/deno", "task", "--quiet", "start"]));
  assert.ok(isRunner(["sh", "-c", "'deno' task start"]));
  assert.ok(isRunner(["/bin/bash", "-c", "deno task start"]));
  assert.ok(isRunner(["npm", "exec", "deno@2.9.6", "task", "start"]));
  assert.ok(isRunner(["node", "/usr/lib/node_modules/npm/bin/npx-cli.js", "-y", "deno@2.9.6"]));
  assert.ok(!isRunner(["-bash"]));
  assert.ok(!isRunner(["bash"]));
  assert.ok(!isRunner(["/usr/lib/systemd/systemd", "--user"]));
  assert.ok(!isRunner(["deno", "test", "--allow-all"]));
  assert.ok(!isRunner(["node", "server.js"]));
  assert.ok(!isRunner([]));
});

function table(rows: Record<number, ProcessInfo>) {
  return (pid: number) => Promise.resolve(rows[pid] ?? null);
}

Deno.test("launchChain: the runners up to the first other process, nearest first", async () => {
  const processes = {
    40: { ppid: 30, argv: ["deno", "task", "start"] },
    30: { ppid: 20, argv: ["sh", "-c", "'deno' task start"] },
    20: { ppid: 10, argv: ["npm", "exec", "deno@2.9.6", "task", "start"] },
    10: { ppid: 1, argv: ["-bash"] },
  };
  const chain = await launchChain(table(processes), 40);
  assert.deepEqual(chain, [{ pid: 40, ppid: 30 }, { pid: 30, ppid: 20 }, { pid: 20, ppid: 10 }]);
  assert.equal(await chainIntact(chain, table(processes)), true);
  // npx and its sh killed: `deno task` lives on, re-parented to init.
  const orphaned = { 40: { ppid: 1, argv: ["deno", "task", "start"] }, 10: processes[10] };
  assert.equal(await chainIntact(chain, table(orphaned)), false);
  // Only npx gone (SIGKILL): sh and deno task still there, but npx is not.
  const { 20: _npx, ...withoutNpx } = processes;
  assert.equal(await chainIntact(chain, table(withoutNpx)), false);
  // Started from a shell directly: no runners, nothing to watch.
  assert.deepEqual(await launchChain(table(processes), 10), []);
});
