// View 3: counterfactual curricula, simulated live. The original run's observed curve, then each
// counterfactual (drop / permute / repeat) drawn step by step as its SSE events arrive; the most
// helpful and harmful training examples for the test example beside it, a click drops one.
import { ApiFailure, enc, getJson, listSimulators, type Run, runsOf, trajectories } from "./api.ts";
import { LineChart } from "./chart.ts";
import { el, errorBox, field, fmt, guarded, note, put } from "./dom.ts";
import { frameThrottle, stream } from "./sse.ts";
import type { View } from "./view.ts";

interface InfluenceEntry {
  trainExample: string;
  net: number;
}

interface InfluenceReport {
  typicalLoss: number;
  helpful: InfluenceEntry[];
  harmful: InfluenceEntry[];
}

/** "e4:2, e7:3" → {e4: 2, e7: 3}; throws naming the entry it cannot read. */
export function parseRepeat(text: string): Record<string, number> {
  const repeat: Record<string, number> = {};
  for (const part of text.split(",").map((p) => p.trim()).filter(Boolean)) {
    const match = /^(.+?)\s*[:×x*]\s*(\d+)$/.exec(part);
    if (!match) throw new Error(`repeat: cannot read “${part}”; write id:count, e.g. e4:2`);
    repeat[match[1]] = Number(match[2]);
  }
  return repeat;
}

export function parseIds(text: string): string[] {
  return text.split(",").map((p) => p.trim()).filter(Boolean);
}

export function counterfactualView(): View {
  const simulatorPicker = el("select", { name: "cf-simulator" });
  const runPicker = el("select", { name: "cf-run" });
  const testPicker = el("select", { name: "cf-test" });
  const dropInput = el("input", { type: "text", name: "drop", placeholder: "e3, e7", size: 24 });
  const permuteInput = el("input", {
    type: "number",
    name: "permute",
    min: 0,
    step: 1,
    placeholder: "none",
  });
  const repeatInput = el("input", { type: "text", name: "repeat", placeholder: "e4:2", size: 16 });
  const keepInput = el("input", { type: "checkbox", name: "keep", checked: true });
  const messages = el("div", { "aria-live": "polite" });
  const influenceArea = el("aside", { class: "influence", "aria-label": "influential examples" });
  const chart = new LineChart({ title: "Original run and counterfactuals" });
  let runs: Run[] = [];
  let original: number[] = [];
  let running: AbortController | null = null;

  /** Lists the ready simulators; the plot is kept when the chosen simulator still exists. */
  async function loadSimulators(): Promise<void> {
    delete root.dataset.ready;
    await guarded(messages, async () => {
      const ready = (await listSimulators()).filter((s) => s.status === "ready");
      const previous = simulatorPicker.value;
      put(
        simulatorPicker,
        ready.map((s) =>
          el(
            "option",
            { value: s.id, "data-study": s.study },
            `${s.study} · ${s.kind} · ${s.id.slice(0, 8)}`,
          )
        ),
      );
      if (ready.some((s) => s.id === previous)) simulatorPicker.value = previous;
      if (ready.length === 0) {
        put(messages, note("No ready simulator yet: fit one in “Fit and evaluate”."));
        return;
      }
      put(messages);
      if (simulatorPicker.value !== previous || runs.length === 0) await loadRuns();
    });
    root.dataset.ready = "true";
  }

  async function loadRuns(): Promise<void> {
    const option = simulatorPicker.selectedOptions[0];
    if (!option) return;
    runs = await runsOf(option.dataset.study!);
    const previous = runPicker.value;
    put(runPicker, runs.map((r) => el("option", { value: r.id }, `${r.name} (${r.steps} steps)`)));
    if (runs.some((r) => r.id === previous)) runPicker.value = previous;
    await loadTests();
  }

  async function loadTests(): Promise<void> {
    if (!runPicker.value) return;
    const t = await trajectories(runPicker.value);
    const previous = testPicker.value;
    put(testPicker, Object.keys(t.trajectories).map((k) => el("option", { value: k }, k)));
    if (previous in t.trajectories) testPicker.value = previous;
    await resetPlot();
  }

  async function resetPlot(): Promise<void> {
    running?.abort(); // its curve is about to go
    const test = testPicker.value;
    if (!test) return;
    original = (await trajectories(runPicker.value, [test])).trajectories[test];
    const run = runs.find((r) => r.id === runPicker.value);
    chart.set([{ label: `observed · ${run?.name ?? "run"}`, values: original }]);
    delete chart.root.dataset.points;
    delete chart.root.dataset.status;
    await loadInfluence();
  }

  async function loadInfluence(): Promise<void> {
    put(influenceArea);
    await guarded(influenceArea, async () => {
      const report = await getJson<InfluenceReport>(
        `/v1/simulators/${enc(simulatorPicker.value)}/influence?test=${
          enc(testPicker.value)
        }&top=8`,
      );
      const list = (title: string, entries: InfluenceEntry[], kind: string) =>
        el(
          "div",
          {},
          el("h4", {}, title),
          entries.length === 0 ? note("none") : el(
            "ol",
            { class: `ranked ${kind}` },
            entries.map((e) =>
              el(
                "li",
                {},
                el("button", {
                  type: "button",
                  class: "link",
                  title: `drop ${e.trainExample}`,
                  "data-train": e.trainExample,
                  onclick: () => addDrop(e.trainExample),
                }, e.trainExample),
                ` ${fmt(e.net)} nats/step`,
              )
            ),
          ),
        );
      put(
        influenceArea,
        el("h3", {}, `Influence on ${testPicker.value}`),
        el("p", { class: "small" }, "Loss change per step when in the batch; click to drop."),
        list("Most helpful", report.helpful, "helpful"),
        list("Most harmful", report.harmful, "harmful"),
      );
    });
  }

  function addDrop(id: string): void {
    const ids = parseIds(dropInput.value);
    if (!ids.includes(id)) ids.push(id);
    dropInput.value = ids.join(", ");
    dropInput.focus();
  }

  async function simulate(): Promise<void> {
    put(messages);
    const test = testPicker.value;
    if (!simulatorPicker.value || !test) return;
    let body: Record<string, unknown>;
    try {
      body = { fromRun: runPicker.value, tests: [test], initialLosses: { [test]: original[0] } };
      const drop = parseIds(dropInput.value);
      if (drop.length > 0) body.drop = drop;
      if (permuteInput.value !== "") body.permute = Number(permuteInput.value);
      const repeat = parseRepeat(repeatInput.value);
      if (Object.keys(repeat).length > 0) body.repeat = repeat;
    } catch (e) {
      put(messages, errorBox(e));
      return;
    }
    if (!keepInput.checked) await resetPlot();
    const label = [
      body.drop ? `drop ${(body.drop as string[]).join(" ")}` : "",
      body.permute !== undefined ? `permute ${body.permute}` : "",
      body.repeat ? `repeat ${repeatInput.value.trim()}` : "",
    ].filter(Boolean).join(" · ") || "same curriculum";
    const values: (number | null)[] = [];
    const index = chart.add({ label, values });
    const redraw = frameThrottle(() => {
      chart.update(index, values);
      chart.root.dataset.points = String(values.filter((v) => v !== null).length);
    });
    running?.abort();
    const controller = running = new AbortController();
    chart.root.dataset.status = "streaming";
    let finished = false;
    let lastStep = 0;
    try {
      for await (
        const message of stream(`/v1/simulators/${enc(simulatorPicker.value)}/simulate`, {
          json: body,
          signal: controller.signal,
        })
      ) {
        const data = JSON.parse(message.data);
        if (message.event === "meta") {
          values.length = data.steps + 1;
          values.fill(null);
          values[0] = data.initialLosses[0];
        } else if (message.event === "step") {
          values[data.t] = data.losses[0];
          lastStep = data.t;
        } else if (message.event === "done") {
          finished = true;
          put(
            messages,
            note(`${label}: ${data.steps} steps in ${fmt(data.elapsedMs, 0)} ms`, "ok"),
          );
        } else if (message.event === "error") {
          throw new ApiFailure(500, data.code, data.message);
        }
        redraw.schedule();
      }
      if (!finished) throw new Error(`the stream was lost after step ${lastStep}; simulate again`);
    } catch (e) {
      if (!controller.signal.aborted) put(messages, errorBox(e));
    } finally {
      redraw.now();
      chart.root.dataset.status = finished ? "done" : "lost";
      chart.root.dataset.maxRedrawLagMs = redraw.maxLagMs.toFixed(1);
      if (running === controller) running = null;
    }
  }

  simulatorPicker.addEventListener("change", () => void guarded(messages, loadRuns));
  runPicker.addEventListener("change", () => void guarded(messages, loadTests));
  testPicker.addEventListener("change", () => void guarded(messages, resetPlot));
  const root = el(
    "div",
    { class: "view", id: "view-counterfactuals" },
    el(
      "form",
      {
        "aria-label": "simulate a counterfactual",
        onsubmit: (e: Event) => {
          e.preventDefault();
          void simulate();
        },
      },
      el(
        "div",
        { class: "row" },
        field("Simulator", simulatorPicker),
        field("Run", runPicker),
        field("Test example", testPicker),
      ),
      el(
        "div",
        { class: "row" },
        field("Drop training examples", dropInput, "comma-separated ids"),
        field("Permute batches (seed)", permuteInput),
        field("Repeat examples", repeatInput, "id:count, comma-separated"),
        el(
          "div",
          { class: "field check" },
          keepInput,
          el("label", { for: "cf-keep" }, "keep earlier curves"),
        ),
      ),
      el(
        "div",
        { class: "row buttons" },
        el("button", { type: "submit", name: "simulate" }, "Simulate"),
        el("button", {
          type: "button",
          class: "secondary",
          onclick: () => void guarded(messages, resetPlot),
        }, "Clear curves"),
      ),
    ),
    messages,
    el("div", { class: "columns" }, el("section", { class: "main" }, chart.root), influenceArea),
  );
  keepInput.id = "cf-keep";
  return { root, refresh: loadSimulators };
}
