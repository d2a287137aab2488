// The real service as a child process, started the way the README says (`deno task start`, which
// runs the launcher and its narrow permissions), on a free port and a given data directory. Tests
// kill it with SIGKILL at chosen moments and start it again on the same store.
//
// `deno task` runs the launcher, which runs main.ts: three processes. The task is started in a
// session of its own (`detached`), so one SIGKILL to its process group takes all three at once,
// like a power cut; nothing gets to clean up.
import { testBackend } from "./gpu.ts";
import { join } from "node:path";

const PROJECT_ROOT = new URL("../..", import.meta.url).pathname;

export interface ServiceOptions {
  dataDir: string;
  /** Extra environment (e.g. SIMFLUENCE_MAX_BODY_MB). */
  env?: Record<string, string>;
  readyTimeoutMs?: number;
  /** What answers 200 once it is up: /readyz (default), or /healthz for a node without a GPU. */
  readyPath?: string;
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class ServiceProcess {
  private output = "";
  private exited = false;

  private constructor(
    readonly child: Deno.ChildProcess,
    readonly port: number,
    readonly dataDir: string,
  ) {
    // Drain both pipes so that the service never blocks on a full pipe; keep the tail for errors.
    for (const stream of [child.stdout, child.stderr]) {
      void (async () => {
        const decoder = new TextDecoder();
        try {
          for await (const chunk of stream) {
            this.output = (this.output + decoder.decode(chunk)).slice(-20_000);
          }
        } catch {
          // the process died
        }
      })();
    }
    void child.status.then(() => (this.exited = true));
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** The last lines the service (and the task runner) printed. */
  get log(): string {
    return this.output;
  }

  static async start(options: ServiceOptions): Promise<ServiceProcess> {
    const port = freePort();
    const child = new Deno.Command(Deno.execPath(), {
      args: ["task", "--quiet", "start"],
      cwd: PROJECT_ROOT,
      env: {
        PORT: String(port),
        HOST: "127.0.0.1",
        SIMFLUENCE_DATA_DIR: options.dataDir,
        // Fresh data directories would each time the matmul kernels for seconds of CPU.
        SIMFLUENCE_AUTOTUNE: "off",
        SIMFLUENCE_LOG_LEVEL: "warn",
        // The tests' backend (webgpu unless SIMFLUENCE_BACKEND is set), not the service's auto:
        // their timings and reference figures assume it.
        SIMFLUENCE_BACKEND: testBackend(),
        NO_COLOR: "1",
        ...options.env,
      },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      detached: true,
    }).spawn();
    const service = new ServiceProcess(child, port, options.dataDir);
    await service.waitReady(options.readyTimeoutMs ?? 60_000, options.readyPath ?? "/readyz");
    return service;
  }

  private async waitReady(timeoutMs: number, readyPath: string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.exited) throw new Error(`the service exited while starting:\n${this.output}`);
      try {
        const res = await fetch(`${this.url}${readyPath}`);
        await res.body?.cancel();
        if (res.status === 200) return;
      } catch {
        // not listening yet
      }
      await delay(100);
    }
    await this.kill();
    throw new Error(`the service was not ready within ${timeoutMs} ms:\n${this.output}`);
  }

  /**
   * A graceful stop: `signal` to the whole process group (as a terminal's Ctrl-C does) or to the
   * task alone (as a process manager does); resolves with the exit code.
   */
  async stop(signal: "SIGINT" | "SIGTERM", target: "group" | "task"): Promise<number> {
    Deno.kill(target === "group" ? -this.child.pid : this.child.pid, signal);
    return (await this.child.status).code;
  }

  /** SIGKILL to the task, the launcher and the service at once; resolves once the port is free. */
  async kill(): Promise<void> {
    if (!this.exited) {
      try {
        Deno.kill(-this.child.pid, "SIGKILL");
      } catch {
        // the group is gone already
      }
    }
    await this.child.status;
    // The service's listening socket closes when the kernel has torn the process down.
    for (let i = 0; i < 100; i++) {
      try {
        const conn = await Deno.connect({ hostname: "127.0.0.1", port: this.port });
        conn.close();
        await delay(20);
      } catch {
        return;
      }
    }
  }

  async api(method: string, path: string, body?: unknown, headers: HeadersInit = {}) {
    const init: RequestInit = { method, headers: { ...headers } };
    if (body instanceof Uint8Array || typeof body === "string" || body instanceof ReadableStream) {
      init.body = body as BodyInit;
    } else if (body !== undefined) {
      init.body = JSON.stringify(body);
      (init.headers as Record<string, string>)["content-type"] = "application/json";
    }
    const res = await fetch(`${this.url}${path}`, init);
    const text = await res.text();
    let parsed: unknown = null;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON (an export in another format)
    }
    // deno-lint-ignore no-explicit-any
    return { status: res.status, body: parsed as any, text };
  }

  /** Polls a job until `done` says so (or it finishes); returns the last record. */
  // deno-lint-ignore no-explicit-any
  async waitJob(id: string, done: (job: any) => boolean = () => false, timeoutMs = 120_000) {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const { body } = await this.api("GET", `/v1/jobs/${id}`);
      if (done(body) || ["succeeded", "failed", "cancelled"].includes(body.status)) return body;
      await delay(10);
    }
    throw new Error(`job ${id} did not get there within ${timeoutMs} ms`);
  }
}

/** Every file under `dir`, relative to it, sorted. */
export function filesUnder(dir: string, prefix = ""): string[] {
  const out: string[] = [];
  for (const entry of Deno.readDirSync(join(dir, prefix))) {
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory) out.push(...filesUnder(dir, rel));
    else out.push(rel);
  }
  return out.sort();
}

/** The tensor files on disk (not the database's own files). */
export function tensorFilesOnDisk(dataDir: string): string[] {
  return filesUnder(join(dataDir, "tensors"));
}
