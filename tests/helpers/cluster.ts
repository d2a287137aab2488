// A cluster of real service processes for tests: N nodes (`deno task start`, each with its own data
// directory and node id) over one throwaway PostgreSQL database and one shared blob folder
// (SIMFLUENCE_BLOB_URL=file:///…). Nodes can be killed with SIGKILL and started again under the
// same id and data directory, as an operator's process manager would.
import { join } from "node:path";
import { freshDatabase } from "./postgres.ts";
import { ServiceProcess } from "./service_process.ts";

export interface ClusterNodeSpec {
  /** SIMFLUENCE_NODE_ID; stays the same across restarts. */
  id: string;
  role?: "api" | "worker" | "all";
  /** Extra environment of this node only. */
  env?: Record<string, string>;
  /** No WebGPU adapter (it then serves only CPU jobs, and /readyz says 503). */
  noGpu?: boolean;
}

export interface ClusterOptions {
  nodes: ClusterNodeSpec[];
  /** Environment of every node (e.g. a short SIMFLUENCE_JOB_HEARTBEAT_SECONDS). */
  env?: Record<string, string>;
  /** An existing database URL; default: a fresh database in the test process's cluster. */
  databaseUrl?: string;
  readyTimeoutMs?: number;
}

export class TestCluster {
  private readonly processes = new Map<string, ServiceProcess>();

  private constructor(
    readonly databaseUrl: string,
    /** The root of this cluster's folders: `blobs/` (shared) and one data directory per node. */
    readonly root: string,
    private readonly specs: Map<string, ClusterNodeSpec>,
    private readonly env: Record<string, string>,
    private readonly readyTimeoutMs: number,
  ) {}

  /** Starts every node at once (migrations are serialised by the store's advisory lock). */
  static async start(options: ClusterOptions): Promise<TestCluster> {
    const root = Deno.makeTempDirSync({ prefix: "simfluence-cluster-" });
    Deno.mkdirSync(join(root, "blobs"));
    const cluster = new TestCluster(
      options.databaseUrl ?? freshDatabase(),
      root,
      new Map(options.nodes.map((spec) => [spec.id, spec])),
      options.env ?? {},
      options.readyTimeoutMs ?? 90_000,
    );
    try {
      // The first node migrates alone: nodes migrating together only wait on each other's lock,
      // and on a small machine one start at a time is as fast.
      const [first, ...rest] = options.nodes;
      await cluster.startNode(first.id);
      await Promise.all(rest.map((spec) => cluster.startNode(spec.id)));
    } catch (e) {
      await cluster.close();
      throw e;
    }
    return cluster;
  }

  get blobUrl(): string {
    return `file://${join(this.root, "blobs")}`;
  }

  dataDir(id: string): string {
    return join(this.root, `node-${id}`);
  }

  /** The running process of node `id` (throws when it is not running). */
  node(id: string): ServiceProcess {
    const process = this.processes.get(id);
    if (!process) throw new Error(`node ${id} is not running`);
    return process;
  }

  get nodeIds(): string[] {
    return [...this.specs.keys()];
  }

  /** A node that joins later (a new id). */
  async addNode(spec: ClusterNodeSpec): Promise<ServiceProcess> {
    if (this.specs.has(spec.id)) throw new Error(`node ${spec.id} is already in this cluster`);
    this.specs.set(spec.id, spec);
    return await this.startNode(spec.id);
  }

  /** Starts node `id` (again: same id, same data directory, a new port). */
  async startNode(id: string): Promise<ServiceProcess> {
    const spec = this.specs.get(id);
    if (!spec) throw new Error(`no node ${id} in this cluster`);
    if (this.processes.has(id)) throw new Error(`node ${id} is already running`);
    const process = await ServiceProcess.start({
      dataDir: this.dataDir(id),
      readyTimeoutMs: this.readyTimeoutMs,
      readyPath: spec.noGpu ? "/healthz" : "/readyz",
      env: {
        // A backend this platform lacks: no adapter at all.
        ...(spec.noGpu ? { DENO_WEBGPU_BACKEND: "metal" } : {}),
        SIMFLUENCE_DATABASE_URL: this.databaseUrl,
        SIMFLUENCE_BLOB_URL: this.blobUrl,
        SIMFLUENCE_NODE_ID: id,
        SIMFLUENCE_ROLE: spec.role ?? "all",
        ...this.env,
        ...spec.env,
      },
    });
    this.processes.set(id, process);
    return process;
  }

  /** SIGKILL to node `id` (task, launcher and service at once): nothing gets to clean up. */
  async kill(id: string): Promise<void> {
    const process = this.node(id);
    this.processes.delete(id);
    await process.kill();
  }

  /** A graceful stop of node `id` (SIGTERM to the task, as a process manager sends). */
  async stop(id: string): Promise<number> {
    const process = this.node(id);
    this.processes.delete(id);
    return await process.stop("SIGTERM", "task");
  }

  async restart(id: string, how: "kill" | "stop" = "kill"): Promise<ServiceProcess> {
    if (how === "kill") await this.kill(id);
    else await this.stop(id);
    return await this.startNode(id);
  }

  /** The logs of every running node, for a failing assertion's message. */
  logs(): string {
    return [...this.processes].map(([id, p]) => `--- node ${id} ---\n${p.log}`).join("\n");
  }

  /** Kills every node still running and removes the folders. */
  async close(): Promise<void> {
    const running = [...this.processes.values()];
    this.processes.clear();
    await Promise.all(running.map((p) => p.kill()));
    Deno.removeSync(this.root, { recursive: true });
  }
}
