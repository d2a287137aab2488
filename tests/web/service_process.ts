// The real service as a child process for browser tests: `deno run --allow-all main.ts` on a free
// port with a temporary data directory (and optionally an API token).
import { testBackend } from "../helpers/gpu.ts";
export interface ServiceProcess {
  url: string;
  dataDir: string;
  /** What the service printed so far (its log), for failure messages. */
  output(): string;
  stop(): Promise<void>;
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

async function drain(stream: ReadableStream<Uint8Array>, sink: string[]): Promise<void> {
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) sink.push(chunk);
}

export async function startService(env: Record<string, string> = {}): Promise<ServiceProcess> {
  const dataDir = await Deno.makeTempDir({ prefix: "simfluence-web-" });
  const port = freePort();
  const main = new URL("../../main.ts", import.meta.url).pathname;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", "--no-check", main],
    env: {
      PORT: String(port),
      HOST: "127.0.0.1",
      SIMFLUENCE_DATA_DIR: dataDir,
      SIMFLUENCE_BACKEND: testBackend(), // the tests' backend, not the service's auto
      ...env,
    },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const log: string[] = [];
  const drained = Promise.all([drain(child.stdout, log), drain(child.stderr, log)]);
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    try {
      child.kill("SIGTERM");
    } catch {
      // already gone
    }
    await child.status;
    await drained;
    await Deno.remove(dataDir, { recursive: true }).catch(() => {});
  };
  const deadline = Date.now() + 90_000;
  while (true) {
    try {
      const res = await fetch(`${url}/healthz`);
      await res.body?.cancel();
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`the service did not start:\n${log.join("")}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return { url, dataDir, output: () => log.join(""), stop };
}
