// The runners between the launcher and whoever typed the command, and a watch on them. A user who
// typed `npx -y deno@2.9.6 task start` and later `kill`s that pid stops npx and its `sh -c`, but
// neither passes the signal on to `deno task`, which is left running, orphaned, with the launcher
// and the service under it. The launcher therefore notes the chain of runners above it at start
// and stops the service when one of them is gone. A runner is `deno task`, a `sh -c` wrapper, or
// npm/npx; the chain ends at the first process that is none of these (a shell, a supervisor), so a
// terminal closing or a supervisor restarting is not mistaken for a stop.
//
// Linux reads /proc; elsewhere `ps` (the launcher may run programs). Where neither works the chain
// is empty and only signals stop the service.
import { basename } from "node:path";

export interface ProcessInfo {
  ppid: number;
  argv: string[];
}

const POLL_MS = 200;

/** `deno task`, `sh -c …`, `npm exec …`/npx: programs that only run the next one. */
export function isRunner(argv: string[]): boolean {
  if (argv.length === 0) return false;
  const program = basename(argv[0]);
  if (program === "deno" && argv[1] === "task") return true;
  if (["sh", "dash", "bash", "zsh"].includes(program) && argv[1] === "-c") return true;
  // npm sets its process title to "npm exec …" (npx) or "npm …"; otherwise node runs npx-cli.js.
  const line = argv.join(" ");
  if (/^npm( |$)|^npx( |$)/.test(line)) return true;
  return program === "node" && argv.some((a) => /npx-cli\.js$|npm-cli\.js$/.test(a));
}

async function procInfo(pid: number): Promise<ProcessInfo | null> {
  try {
    const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
    // "pid (comm) state ppid …": comm may hold spaces and parentheses, so read after the last ')'.
    const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    const cmdline = await Deno.readTextFile(`/proc/${pid}/cmdline`);
    return { ppid, argv: cmdline.split("\0").filter((a) => a !== "") };
  } catch {
    return null;
  }
}

async function psInfo(pid: number): Promise<ProcessInfo | null> {
  try {
    const out = await new Deno.Command("ps", {
      args: ["-o", "ppid=,args=", "-p", String(pid)],
      stdout: "piped",
      stderr: "null",
    }).output();
    const line = new TextDecoder().decode(out.stdout).trim();
    if (!out.success || line === "") return null;
    const [ppid, ...argv] = line.split(/\s+/);
    return { ppid: Number(ppid), argv };
  } catch {
    return null;
  }
}

let useProc: boolean | null = null;

/** A live process's parent and arguments; null once it is gone (or cannot be read). */
export async function processInfo(pid: number): Promise<ProcessInfo | null> {
  if (useProc === null) {
    try {
      useProc = (await Deno.stat(`/proc/${Deno.pid}/stat`)).isFile;
    } catch {
      useProc = false;
    }
  }
  return useProc ? await procInfo(pid) : await psInfo(pid);
}

export interface ChainLink {
  pid: number;
  /** Its parent when the chain was read: a different one later means it was re-parented. */
  ppid: number;
}

/** The runners above this process, nearest first. */
export async function launchChain(
  info: (pid: number) => Promise<ProcessInfo | null> = processInfo,
  from = Deno.ppid,
): Promise<ChainLink[]> {
  const chain: ChainLink[] = [];
  for (let pid = from; pid > 1 && chain.length < 16;) {
    const process = await info(pid);
    if (process === null || !isRunner(process.argv)) break;
    chain.push({ pid, ppid: process.ppid });
    pid = process.ppid;
  }
  return chain;
}

/** Whether every runner is still there, under the same parent. */
export async function chainIntact(
  chain: ChainLink[],
  info: (pid: number) => Promise<ProcessInfo | null> = processInfo,
): Promise<boolean> {
  for (const link of chain) {
    const process = await info(link.pid);
    if (process === null || process.ppid !== link.ppid) return false;
  }
  return true;
}

/** Calls `broken` once when a runner of `chain` is gone; `stop()` ends the watch. */
export function watchChain(chain: ChainLink[], broken: () => void): { stop(): void } {
  if (chain.length === 0) return { stop() {} };
  let checking = false;
  const timer = setInterval(async () => {
    if (checking) return;
    checking = true;
    try {
      if (!(await chainIntact(chain))) {
        clearInterval(timer);
        broken();
      }
    } finally {
      checking = false;
    }
  }, POLL_MS);
  return { stop: () => clearInterval(timer) };
}
