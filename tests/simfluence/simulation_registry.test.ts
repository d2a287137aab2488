// The registry behind POST /v1/simulations: at most `maxRunning` simulations compute at once (each
// holds its events in memory), finished ones stay replayable, and shutdown stops the running ones.
import assert from "node:assert/strict";
import { ApiError, toApiError } from "../../src/http/api_error.ts";
import type { SimulationEvent, SimulationPlan } from "../../src/simfluence/simulation.ts";
import { SimulationRegistry } from "../../src/simfluence/simulation_registry.ts";

/** A plan is only passed through to the event source here. */
const plan = { sim: { record: { id: "sim-1" } } } as unknown as SimulationPlan;

/** An event source that emits `meta` and then waits until its simulation is released or aborted. */
function controllableEvents() {
  const release: (() => void)[] = [];
  async function* events(
    _rt: unknown,
    _plan: SimulationPlan,
    signal?: AbortSignal,
  ): AsyncGenerator<SimulationEvent[]> {
    yield [{ event: "meta", data: {} }];
    await new Promise<void>((resolve, reject) => {
      release.push(resolve);
      if (signal?.aborted) reject(signal.reason);
      signal?.addEventListener("abort", () => reject(signal.reason), { once: true });
    });
    yield [{ event: "done", data: {} }];
  }
  return { events, release };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

Deno.test("simulations: past maxRunning a new one is a 429; a finished one makes room", async () => {
  const source = controllableEvents();
  const registry = new SimulationRegistry({ maxRunning: 2, events: source.events });
  const first = registry.start(null, plan);
  registry.start(null, plan);
  await settle();
  assert.throws(
    () => registry.start(null, plan),
    (thrown) => {
      const e = toApiError(thrown);
      return e instanceof ApiError && e.status === 429 && e.code === "too_many_simulations";
    },
  );
  source.release[0]();
  await settle();
  assert.equal(registry.status(first.id)!.status, "done");
  const third = registry.start(null, plan);
  assert.equal(registry.status(third.id)!.status, "running");
  // The finished one still replays its whole stream.
  const replayed: string[] = [];
  const watch = registry.watch(first.id)!;
  for (let i = 0; i < watch.length; i++) replayed.push(watch.at(i).event);
  assert.deepEqual(replayed, ["meta", "done"]);
  assert.equal(watch.finished, true);
  watch.close();
  registry.shutdown();
  await settle();
  assert.equal(registry.status(third.id)!.status, "cancelled");
});
