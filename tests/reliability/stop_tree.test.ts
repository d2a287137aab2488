// Stopping the service the way a user does: `npx -y deno@2.9.6 task start &`, then `kill <pid>`
// (SIGTERM) or `kill -INT <pid>` on the process they started. npx and its `sh -c` do not pass the
// signal on to `deno task`; the launcher notices its runners are gone (src/launch_chain.ts) and
// stops the service. Whatever the signal, every process of the tree is gone and the port is free
// within 2 s. And the service never outlives its launcher, even one killed with SIGKILL.
import assert from "node:assert/strict";
import { ServiceProcess } from "../helpers/service_process.ts";

const PROJECT_ROOT = new URL("../..", import.meta.url).pathname;
const STOP_WITHIN_MS = 2_000;
const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function which(program: string): string | null {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    try {
      if (Deno.statSync(`${dir}/${program}`).isFile) return `${dir}/${program}`;
    } catch {
      // not here
    }
  }
  return null;
}

const NPX = which("npx");
const HAS_PROC = (() => {
  try {
    return Deno.statSync("/proc/self/stat").isFile;
  } catch {
    return false;
  }
})();

interface Proc {
  pid: number;
  ppid: number;
  state: string;
  cmdline: string;
}

function readProc(pid: number): Proc | null {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    const [state, ppid] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const cmdline = Deno.readTextFileSync(`/proc/${pid}/cmdline`).replaceAll("\0", " ").trim();
    return { pid, ppid: Number(ppid), state, cmdline };
  } catch {
    return null;
  }
}

/** `root` and every process under it, from /proc. */
function processTree(root: number): Proc[] {
  const all: Proc[] = [];
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    const proc = readProc(Number(entry.name));
    if (proc) all.push(proc);
  }
  const tree = all.filter((p) => p.pid === root);
  for (let i = 0; i < tree.length; i++) tree.push(...all.filter((p) => p.ppid === tree[i].pid));
  return tree;
}

/** Running (not a zombie waiting to be reaped). */
function alive(pid: number): boolean {
  const proc = readProc(pid);
  return proc !== null && proc.state !== "Z";
}

async function portFree(port: number): Promise<boolean> {
  try {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    conn.close();
    return false;
  } catch {
    return true;
  }
}

function userEnv(): Record<string, string> {
  const env = Deno.env.toObject();
  delete env.npm_config_script_shell;
  return env;
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

async function waitReady(port: number, child: Deno.ChildProcess, log: () => string) {
  const deadline = Date.now() + 120_000;
  let exited = false;
  void child.status.then(() => (exited = true));
  while (Date.now() < deadline) {
    if (exited) throw new Error(`the service exited while starting:\n${log()}`);
    try {
      const res = await fetch(`http://127.0.0.1:${port}/readyz`);
      await res.body?.cancel();
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    await delay(100);
  }
  throw new Error(`not ready:\n${log()}`);
}

/** Polls until every pid is gone and the port is free; the milliseconds it took, or null. */
async function goneWithin(pids: number[], port: number, ms: number): Promise<number | null> {
  const started = performance.now();
  while (performance.now() - started < ms) {
    if (pids.every((pid) => !alive(pid)) && (await portFree(port))) {
      return performance.now() - started;
    }
    await delay(25);
  }
  return null;
}

// In the repository npm runs `deno task` directly (.npmrc's script-shell, bash, execs it). With
// npm's default shell (elsewhere, or a user's npm_config_script_shell) it runs it through `sh -c`,
// which swallows the signal, and only the launcher's watch of its runners stops the service.
// SIGKILL too: npx then cannot pass anything on at all.
const CASES = [
  { signal: "SIGTERM", shell: null },
  { signal: "SIGINT", shell: null },
  { signal: "SIGKILL", shell: null },
  { signal: "SIGTERM", shell: "/bin/sh" },
] as const;

for (const { signal, shell } of CASES) {
  Deno.test({
    name: `npx -y deno@2.9.6 task start${shell ? ` through ${shell} -c` : ""}: ${signal} to npx ` +
      "stops the whole tree within 2 s",
    ignore: NPX === null || !HAS_PROC,
    fn: async () => {
      const dataDir = await Deno.makeTempDir({ prefix: "simfluence-stop-" });
      const port = freePort();
      let output = "";
      // Its own session and process group, as a shell's `&` job has (and so that the cleanup
      // below can reach whatever is left).
      const child = new Deno.Command(NPX!, {
        args: ["-y", "deno@2.9.6", "task", "start"],
        cwd: PROJECT_ROOT,
        // Without the npm_config_script_shell the npm running these tests exports: the .npmrc
        // decides, as for a user.
        env: {
          ...userEnv(),
          PORT: String(port),
          HOST: "127.0.0.1",
          SIMFLUENCE_DATA_DIR: dataDir,
          SIMFLUENCE_AUTOTUNE: "off",
          ...(shell ? { npm_config_script_shell: shell } : {}),
        },
        clearEnv: true,
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
        detached: true,
      }).spawn();
      for (const stream of [child.stdout, child.stderr]) {
        void (async () => {
          for await (const chunk of stream.pipeThrough(new TextDecoderStream())) output += chunk;
        })().catch(() => {});
      }
      try {
        await waitReady(port, child, () => output);
        const tree = processTree(child.pid);
        const described = tree.map((p) => `${p.pid} ${p.cmdline.slice(0, 100)}`).join("\n");
        assert.ok(tree.some((p) => p.cmdline.includes("src/launcher.ts")), described);
        assert.ok(tree.some((p) => p.cmdline.includes("main.ts")), described);
        if (shell) assert.ok(tree.some((p) => /^\S*sh -c /.test(p.cmdline)), described);
        // In the repository (.npmrc), npm starts `deno task` itself, which passes signals on.
        else assert.ok(!tree.some((p) => /^\S*sh -c /.test(p.cmdline)), described);
        Deno.kill(child.pid, signal);
        const took = await goneWithin(tree.map((p) => p.pid), port, STOP_WITHIN_MS);
        const left = tree.filter((p) => alive(p.pid)).map((p) => `${p.pid} ${p.cmdline}`);
        assert.notEqual(
          took,
          null,
          `still running after ${STOP_WITHIN_MS} ms:\n${left.join("\n")}`,
        );
        // The service stopped gracefully (it logged it), not by being killed.
        assert.match(output, /"msg":"stopped"/);
      } finally {
        try {
          Deno.kill(-child.pid, "SIGKILL");
        } catch {
          // the group is gone
        }
        for (const p of processTree(child.pid)) {
          try {
            Deno.kill(p.pid, "SIGKILL");
          } catch {
            // gone
          }
        }
        await child.status;
        await Deno.remove(dataDir, { recursive: true });
      }
    },
  });
}

Deno.test({
  name: "the service exits when its launcher is killed with SIGKILL",
  ignore: !HAS_PROC,
  fn: async () => {
    const dataDir = await Deno.makeTempDir({ prefix: "simfluence-stop-" });
    const service = await ServiceProcess.start({ dataDir, env: { SIMFLUENCE_LOG_LEVEL: "info" } });
    try {
      const tree = processTree(service.child.pid);
      const launcher = tree.find((p) => p.cmdline.includes("src/launcher.ts"));
      const main = tree.find((p) => / \S*main\.ts( |$)/.test(p.cmdline));
      assert.ok(launcher && main, tree.map((p) => p.cmdline).join("\n"));
      Deno.kill(launcher.pid, "SIGKILL");
      const took = await goneWithin([main.pid], service.port, STOP_WITHIN_MS);
      assert.notEqual(took, null, `the service outlived its launcher:\n${service.log}`);
      assert.match(service.log, /"msg":"shutting down","cause":"launcher exited"/);
    } finally {
      await service.kill();
      await Deno.remove(dataDir, { recursive: true });
    }
  },
});
