// Shared by the cluster tests: a tiny model, small synthetic runs, a training request, and an SSE
// watcher that reads a job's events to the end.
import assert from "node:assert/strict";
import type { ServiceProcess } from "../helpers/service_process.ts";

export const TINY = { vocab_size: 257, n_positions: 32, n_embd: 16, n_layer: 1, n_head: 2 };

export async function createTinyModel(node: ServiceProcess, seed = 1): Promise<string> {
  const res = await node.api("POST", "/v1/models", { config: TINY, seed });
  assert.equal(res.status, 201, res.text);
  return res.body.id;
}

/** A deterministic synthetic run, small enough that a fit takes a moment on 2 cores. */
export function syntheticRun(r: number, study = "fit") {
  const STEPS = 60, BATCH = 8, TRAIN_IDS = 200, TESTS = 12;
  let state = 12345 + r * 7919;
  const random = () => ((state = (state * 1103515245 + 12345) % 2147483648) / 2147483648);
  const steps = Array.from({ length: STEPS }, () => ({
    batch: Array.from({ length: BATCH }, () => `e${Math.floor(random() * TRAIN_IDS)}`),
  }));
  const losses = [Array.from({ length: TESTS }, () => 3 + random())];
  for (let t = 1; t <= STEPS; t++) {
    losses.push(losses[t - 1].map((l) => l - 0.002 * random() + 0.0005));
  }
  return {
    study,
    name: `run-${r}`,
    testExamples: Array.from({ length: TESTS }, (_, j) => `q${j}`),
    steps,
    losses,
  };
}

export function trainingRequest(model: string, runs: number, steps: number) {
  return {
    study: "recorded",
    model,
    dataset: "builtin:skills",
    trainExamples: 12,
    testExamples: 4,
    runs,
    steps,
    batchSize: 4,
    optimizer: { kind: "adamw", lr: 0.01 },
    curriculum: "subsample",
    subsampleFraction: 0.5,
    seed: 3,
    namePrefix: "rec",
  };
}

export interface SseEvent {
  id: string;
  event: string;
  data: unknown;
}

const FINAL = ["done", "failed", "cancelled"];

/** Reads GET /v1/jobs/:id/events on `node` until its final event (or the stream ends). */
export async function watchJob(
  node: ServiceProcess,
  id: string,
  timeoutMs = 300_000,
): Promise<SseEvent[]> {
  const res = await fetch(`${node.url}/v1/jobs/${id}/events`, {
    signal: AbortSignal.timeout(timeoutMs),
  });
  assert.equal(res.status, 200);
  const events: SseEvent[] = [];
  const decoder = new TextDecoder();
  let buffer = "";
  for await (const chunk of res.body!) {
    buffer += decoder.decode(chunk, { stream: true });
    let end: number;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const fields: Record<string, string> = {};
      for (const line of block.split("\n")) {
        if (line.startsWith(":")) continue;
        const colon = line.indexOf(":");
        fields[line.slice(0, colon)] = line.slice(colon + 1).trimStart();
      }
      if (!fields.event) continue;
      events.push({ id: fields.id, event: fields.event, data: JSON.parse(fields.data) });
      if (FINAL.includes(fields.event)) {
        await res.body!.cancel().catch(() => {});
        return events;
      }
    }
  }
  return events;
}
