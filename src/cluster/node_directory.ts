// What GET /v1/nodes lists: the cluster's nodes table on PostgreSQL, or this node alone in
// single-process mode. A node's adapter is the WebGPU adapter it serves GPU work with.
import type { Config } from "../config.ts";
import type { GpuHandle } from "../gpu/handle.ts";
import type { JobManager } from "../jobs/manager.ts";
import type { NodeAdapter, NodeInfo, NodesTable } from "./nodes_store.ts";

export interface NodeDirectory {
  list(): NodeInfo[];
}

/** The adapter this node takes GPU work with, or null without a usable one. */
export function adapterOf(gpu: GpuHandle): NodeAdapter | null {
  const d = gpu.error === null ? gpu.describe() : null;
  return d
    ? {
      vendor: d.vendor,
      device: d.device,
      description: d.description,
      fallback: d.isFallbackAdapter,
    }
    : null;
}

/** Single-process mode: this node, heard from now. */
export function localNodeDirectory(
  deps: { config: Config; gpu: GpuHandle; jobs: JobManager },
  startedAt = new Date(),
): NodeDirectory {
  return {
    list: () => [{
      id: deps.config.nodeId,
      role: deps.config.role,
      adapter: adapterOf(deps.gpu),
      startedAt: startedAt.toISOString(),
      heartbeatAt: new Date().toISOString(),
      job: deps.jobs.runningJobIds()[0] ?? null,
      alive: true,
    }],
  };
}

export function clusterNodeDirectory(nodes: NodesTable, staleMs: number): NodeDirectory {
  return { list: () => nodes.list(staleMs) };
}

const directories = new WeakMap<JobManager, NodeDirectory>();

/** The directory of the node whose job manager is `jobs` (set when it joins a cluster). */
export function registerNodeDirectory(jobs: JobManager, directory: NodeDirectory): void {
  directories.set(jobs, directory);
}

export function nodeDirectoryOf(
  deps: { config: Config; gpu: GpuHandle; jobs: JobManager },
): NodeDirectory {
  let directory = directories.get(deps.jobs);
  if (!directory) directories.set(deps.jobs, directory = localNodeDirectory(deps));
  return directory;
}
