// The Jobs tab's Nodes panel: every node of the cluster (GET /v1/nodes) with its role, GPU adapter,
// last heartbeat and the job it runs; one row, this node, without PostgreSQL.
import { getJson } from "./api.ts";
import { el, guarded, note, put, table } from "./dom.ts";

interface ListedNode {
  id: string;
  role: string;
  adapter: { vendor: string; device: string; description: string; fallback: boolean } | null;
  startedAt: string;
  heartbeatAt: string;
  job: string | null;
  alive: boolean;
}

function adapterText(node: ListedNode): string {
  const a = node.adapter;
  if (!a) return "none (CPU jobs only)";
  const name = a.description || [a.vendor, a.device].filter(Boolean).join(" ") || "adapter";
  return a.fallback ? `${name} (fallback)` : name;
}

export function nodesPanel(): { root: HTMLElement; load(): Promise<void> } {
  const listArea = el("div", { class: "nodes-list" });
  const messages = el("div");
  const root = el(
    "section",
    { class: "nodes", id: "nodes-panel" },
    el("h3", {}, "Nodes"),
    messages,
    listArea,
  );

  async function load(): Promise<void> {
    await guarded(messages, async () => {
      const { nodes } = await getJson<{ nodes: ListedNode[] }>("/v1/nodes");
      put(
        listArea,
        nodes.length === 0 ? note("No nodes have joined.") : table(
          ["node", "role", "GPU adapter", "last heartbeat", "running", "state"],
          nodes.map((node) => [
            el("code", {}, node.id),
            node.role,
            adapterText(node),
            new Date(node.heartbeatAt).toLocaleTimeString(),
            node.job ? el("code", {}, node.job.slice(0, 8)) : "–",
            el(
              "span",
              { class: `job-state ${node.alive ? "succeeded" : "failed"}` },
              node.alive ? "alive" : "not heard from",
            ),
          ]),
          { class: "nodes-table" },
        ),
      );
      listArea.querySelectorAll("tbody tr").forEach((tr, i) => {
        (tr as HTMLElement).dataset.node = nodes[i].id;
      });
    });
  }
  return { root, load };
}
