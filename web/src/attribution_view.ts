// View 5: attribution from influence score sets: pick factors and a score set, pick a query (or
// score a new one), see the most helpful and harmful training examples with their text, the
// token-wise scores as a heat-map over a training text (values on demand), and per-layer bars.
// Below, forms start each method: EK-FAC factors, TracIn, gradient projection and its scores.
import { enc, getJson, listAll } from "./api.ts";
import { attributionStart } from "./attribution_start.ts";
import { bars } from "./chart.ts";
import { el, field, guarded, note, put, select, table } from "./dom.ts";
import { JobView } from "./job_progress.ts";
import { engineering } from "./numbers.ts";
import type { View } from "./view.ts";

interface Factors {
  id: string;
  model: string;
  status: string;
  dataset: string;
  strategy: string;
  examples: number;
  error: string | null;
}

interface ScoreSet {
  id: string;
  model: string;
  factors: string | null;
  method: string;
  status: string;
  error: string | null;
  settings: { mode: string; perModule: boolean; perToken: boolean } | null;
  queries: { dataset: string | null; count: number };
  train: { dataset: string; count: number };
}

interface Example {
  id: string;
  text?: string;
  prompt?: string;
  completion?: string;
}

interface Scored {
  id: string;
  score: number;
  example?: Example;
}

interface TokenScore {
  token: number;
  text: string;
  score: number;
}

function exampleText(e: Example | undefined): HTMLElement {
  if (!e) return el("span", { class: "muted" }, "(text unavailable)");
  if (e.text !== undefined) return el("span", { class: "example-text" }, e.text);
  return el(
    "span",
    { class: "example-text" },
    el("span", { class: "muted" }, e.prompt ?? ""),
    e.completion ?? "",
  );
}

/** Spaces and line breaks shown as marks, so a token that is only whitespace can be seen. */
function visible(text: string): string {
  return text.replace(/ /g, "·").replace(/\n/g, "↵").replace(/\t/g, "→");
}

/** Background for a token score: blue helps (positive), red harms, strength by |score| / max. */
function heat(score: number, max: number): string {
  const a = Math.min(1, Math.abs(score) / max);
  return score >= 0
    ? `rgba(30, 90, 200, ${(0.75 * a).toFixed(3)})`
    : `rgba(200, 40, 30, ${(0.75 * a).toFixed(3)})`;
}

export function attributionView(): View {
  const factorsArea = el("div");
  const factorsPicker = el("select", { name: "factors" });
  const scoreSetPicker = el("select", { name: "score-set" });
  const queryPicker = el("select", { name: "query" });
  const topArea = el("div", { class: "top" });
  const detailArea = el("div", { class: "detail", "aria-live": "polite" });
  const newQueryArea = el("div");
  const messages = el("div");
  let scoreSets: ScoreSet[] = [];

  /** Loads lists; `prefer` picks a score set (a query just scored) over the one shown. */
  async function load(prefer?: string): Promise<void> {
    put(messages);
    await guarded(messages, async () => {
      const [factors, sets] = await Promise.all([
        listAll<Factors>("/v1/influence/factors", "factors"),
        listAll<ScoreSet>("/v1/influence/scores", "scores"),
      ]);
      // The factors filter: score sets computed from the chosen factors, or all of them.
      const chosenFactors = factorsPicker.value;
      put(
        factorsPicker,
        el("option", { value: "" }, "any factors"),
        factors.map((f) =>
          el("option", { value: f.id }, `${f.id.slice(0, 8)} · ${f.strategy} · ${f.dataset}`)
        ),
      );
      if (factors.some((f) => f.id === chosenFactors)) factorsPicker.value = chosenFactors;
      scoreSets = sets.filter((s) =>
        (s.settings?.mode ?? "pairwise") === "pairwise" &&
        (factorsPicker.value === "" || s.factors === factorsPicker.value)
      );
      put(
        factorsArea,
        el("h3", {}, "Factors"),
        factors.length === 0
          ? note("No factors yet (POST /v1/influence/factors fits them on a model and dataset).")
          : table(
            ["id", "strategy", "model", "dataset", "examples", "status"],
            factors.map((f) => [
              el("code", {}, f.id.slice(0, 8)),
              f.strategy,
              el("code", {}, f.model.slice(0, 8)),
              f.dataset,
              f.examples,
              f.status + (f.error ? `: ${f.error}` : ""),
            ]),
          ),
      );
      renderNewQuery(factors.filter((f) => f.status === "ready"));
      const previous = prefer ?? scoreSetPicker.value;
      put(
        scoreSetPicker,
        scoreSets.map((s) =>
          el(
            "option",
            { value: s.id, disabled: s.status !== "ready" },
            `${s.id.slice(0, 8)} · ${s.method} · ${s.queries.count} queries × ${s.train.count} ` +
              `examples${s.settings?.perToken ? " · tokens" : ""}${
                s.settings?.perModule ? " · layers" : ""
              }` +
              (s.status === "ready" ? "" : ` (${s.status})`),
          )
        ),
      );
      if (scoreSets.some((s) => s.id === previous)) scoreSetPicker.value = previous;
      else {
        const ready = scoreSets.find((s) => s.status === "ready");
        if (ready) scoreSetPicker.value = ready.id;
      }
      if (scoreSets.length === 0) put(topArea, note("No pairwise score sets yet."));
      else await loadQueries();
    });
  }

  function current(): ScoreSet | undefined {
    return scoreSets.find((s) => s.id === scoreSetPicker.value);
  }

  async function loadQueries(): Promise<void> {
    put(topArea);
    put(detailArea);
    const set = current();
    if (!set || set.status !== "ready") return;
    await guarded(topArea, async () => {
      const matrix = await getJson<{ queries: string[] }>(
        `/v1/influence/scores/${enc(set.id)}/matrix`,
      );
      put(queryPicker, matrix.queries.map((q) => el("option", { value: q }, q)));
      await loadTop();
    });
  }

  let topTicket = 0;
  async function loadTop(): Promise<void> {
    put(topArea);
    put(detailArea);
    const set = current();
    if (!set || !queryPicker.value) return;
    const ticket = ++topTicket;
    await guarded(topArea, async () => {
      const top = await getJson<{ helpful: Scored[]; harmful: Scored[] }>(
        `/v1/influence/scores/${enc(set.id)}/top?query=${enc(queryPicker.value)}&k=8`,
      );
      if (ticket !== topTicket) return; // a later choice replaced this one
      const list = (title: string, entries: Scored[], kind: string) =>
        el(
          "section",
          { class: `ranked ${kind}` },
          el("h4", {}, title),
          entries.length === 0 ? note("none") : el(
            "ol",
            {},
            entries.map((e) =>
              el(
                "li",
                {},
                el("button", {
                  type: "button",
                  class: "link",
                  "data-train": e.id,
                  onclick: () => void loadDetail(set, e),
                }, e.id),
                ` score ${engineering(e.score)} `,
                exampleText(e.example),
              )
            ),
          ),
        );
      put(
        topArea,
        list("Most helpful (training on it lowered the query's loss)", top.helpful, "helpful"),
        list("Most harmful (raised it)", top.harmful, "harmful"),
      );
    });
  }

  async function loadDetail(set: ScoreSet, entry: Scored): Promise<void> {
    put(detailArea, el("h3", {}, `${entry.id} on query ${queryPicker.value}`));
    const pair = `query=${enc(queryPicker.value)}&train=${enc(entry.id)}`;
    if (set.settings?.perToken) {
      await guarded(detailArea, async () => {
        const { tokens, total } = await getJson<{ tokens: TokenScore[]; total: number }>(
          `/v1/influence/scores/${enc(set.id)}/tokens?${pair}`,
        );
        const max = Math.max(1e-30, ...tokens.map((t) => Math.abs(t.score)));
        const map = el(
          "p",
          { class: "heatmap" },
          tokens.map((t) =>
            el(
              "span",
              {
                class: "tok",
                style: `background: ${heat(t.score, max)}`,
                title: `${JSON.stringify(t.text)}: ${engineering(t.score)}`,
              },
              el("span", { class: "tok-text" }, visible(t.text)),
              el("span", { class: "tok-value" }, engineering(t.score)),
            )
          ),
        );
        // Values on demand: each token's score printed under it, beyond the hover tooltip.
        const toggle = el("input", {
          type: "checkbox",
          name: "token-values",
          id: "token-values",
          onchange: () => map.classList.toggle("with-values", toggle.checked),
        });
        detailArea.append(
          el("h4", {}, `Token-wise scores (sum ${engineering(total)}; blue helps, red harms)`),
          el(
            "div",
            { class: "field check" },
            toggle,
            el("label", { for: "token-values" }, "show each token's score"),
          ),
          map,
        );
      });
    } else detailArea.append(note("This score set was computed without per-token scores."));
    if (set.settings?.perModule) {
      await guarded(detailArea, async () => {
        const { modules, total } = await getJson<
          { modules: { module: string; score: number }[]; total: number }
        >(`/v1/influence/scores/${enc(set.id)}/modules?${pair}`);
        detailArea.append(
          el("h4", {}, `Per-layer scores (sum ${engineering(total)})`),
          bars(modules.map((m) => ({ label: m.module, value: m.score })), ""),
        );
      });
    } else detailArea.append(note("This score set was computed without per-module scores."));
  }

  function renderNewQuery(factors: Factors[]): void {
    if (factors.length === 0) {
      put(newQueryArea);
      return;
    }
    const factorsPicker = select(
      factors.map((f) => ({
        value: f.id,
        label: `${f.id.slice(0, 8)} · ${f.strategy} · ${f.dataset}`,
      })),
      { name: "new-factors" },
    );
    const prompt = el("textarea", { name: "new-prompt", rows: 2, cols: 40 });
    const completion = el("textarea", { name: "new-completion", rows: 2, cols: 40 });
    const perToken = el("input", {
      type: "checkbox",
      name: "per-token",
      checked: true,
      id: "new-per-token",
    });
    const perModule = el("input", {
      type: "checkbox",
      name: "per-module",
      checked: true,
      id: "new-per-module",
    });
    const jobArea = el("div");
    put(
      newQueryArea,
      el("h3", {}, "Score a new query"),
      el(
        "form",
        {
          "aria-label": "score a new query",
          onsubmit: (e: Event) => {
            e.preventDefault();
            void guarded(jobArea, async () => {
              put(jobArea);
              const started = await getJson<{ scores: ScoreSet; job: string }>(
                "/v1/influence/scores",
                {
                  json: {
                    factors: factorsPicker.value,
                    queries: {
                      examples: [{
                        id: "query",
                        prompt: prompt.value,
                        completion: completion.value,
                      }],
                    },
                    perToken: perToken.checked,
                    perModule: perModule.checked,
                  },
                },
              );
              const view = new JobView(started.job, "Scoring the query");
              put(jobArea, view.root);
              const job = await view.follow();
              if (job.status === "succeeded") await load(started.scores.id);
            });
          },
        },
        el("div", { class: "row" }, field("Factors", factorsPicker)),
        el(
          "div",
          { class: "row" },
          field("Prompt", prompt),
          field("Completion (its loss is measured)", completion),
        ),
        el(
          "div",
          { class: "row" },
          el(
            "div",
            { class: "field check" },
            perToken,
            el("label", { for: perToken.id }, "token-wise scores"),
          ),
          el(
            "div",
            { class: "field check" },
            perModule,
            el("label", { for: perModule.id }, "per-layer scores"),
          ),
        ),
        el("button", { type: "submit", name: "score" }, "Score"),
      ),
      jobArea,
    );
  }

  const start = attributionStart((id) => load(id === "" ? undefined : id));
  factorsPicker.addEventListener("change", () => void load());
  scoreSetPicker.addEventListener("change", () => void loadQueries());
  queryPicker.addEventListener("change", () => void loadTop());
  const root = el(
    "div",
    { class: "view", id: "view-attribution" },
    messages,
    el(
      "div",
      { class: "row" },
      field("Factors", factorsPicker),
      field("Score set", scoreSetPicker),
      field("Query", queryPicker),
    ),
    el("div", { class: "columns" }, el("section", { class: "main" }, topArea), detailArea),
    factorsArea,
    newQueryArea,
    start.root,
  );
  return { root, refresh: async () => void await Promise.all([load(), start.refresh()]) };
}
