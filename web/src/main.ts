/// <reference no-default-lib="true" />
/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/// <reference lib="esnext" />
// The page's entry point: asks for the API token when the service wants one, then shows one tab
// per view. Bundled by `deno task build:web` into web/dist/app.js (+ app.css).
import "uplot/dist/uPlot.min.css";
import "./style.css";
import { failure, headers, onUnauthorized, setToken, token } from "./api.ts";
import { attributionView } from "./attribution_view.ts";
import { compareView } from "./compare_view.ts";
import { counterfactualView } from "./counterfactual_view.ts";
import { el, errorBox, field, put } from "./dom.ts";
import { fitView } from "./fit_view.ts";
import { jobsView } from "./jobs_view.ts";
import { modelsView } from "./models_view.ts";
import { optimizeView } from "./optimize_view.ts";
import { studiesView } from "./studies_view.ts";
import type { View } from "./view.ts";

const TABS: { id: string; title: string; make: () => View }[] = [
  { id: "studies", title: "Studies and runs", make: studiesView },
  { id: "fit", title: "Fit and evaluate", make: fitView },
  { id: "compare", title: "Compare methods", make: compareView },
  { id: "counterfactuals", title: "Counterfactuals", make: counterfactualView },
  { id: "models", title: "Models and recording", make: modelsView },
  { id: "attribution", title: "Attribution", make: attributionView },
  { id: "optimize", title: "Optimise", make: optimizeView },
  { id: "jobs", title: "Jobs", make: jobsView },
];

/** Whether the service accepts this tab's token (or needs none): 401 means ask for it. */
async function authorised(): Promise<boolean | Error> {
  try {
    const response = await fetch("/v1/runs?limit=1", { headers: headers() });
    if (response.status === 401) return false;
    if (!response.ok) return await failure(response);
    return true;
  } catch (e) {
    return e instanceof Error ? e : new Error(String(e));
  }
}

function tokenForm(app: HTMLElement, reason: HTMLElement | null): Promise<void> {
  return new Promise((resolve) => {
    const input = el("input", {
      type: "password",
      name: "token",
      autocomplete: "off",
      required: true,
    });
    const problems = el("div", {}, reason);
    const form = el(
      "form",
      {
        class: "token-form",
        "aria-label": "API token",
        onsubmit: async (e: Event) => {
          e.preventDefault();
          setToken(input.value.trim());
          const ok = await authorised();
          if (ok === true) {
            resolve();
            return;
          }
          setToken(null);
          put(
            problems,
            errorBox(ok === false ? new Error("401: the service refused this token") : ok),
          );
          input.select();
        },
      },
      el("h2", {}, "This service needs its API token"),
      el(
        "p",
        {},
        "The token is kept for this browser tab only and sent in the Authorization header.",
      ),
      field("API token", input),
      el("button", { type: "submit", name: "sign-in" }, "Continue"),
      problems,
    );
    put(app, form);
    input.focus();
  });
}

function showTabs(app: HTMLElement): void {
  const views = new Map<string, View>();
  const nav = el("nav", { role: "tablist", "aria-label": "views" });
  const panel = el("main", { id: "panel", role: "tabpanel" });
  const open = (id: string) => {
    const tab = TABS.find((t) => t.id === id) ?? TABS[0];
    let view = views.get(tab.id);
    if (!view) views.set(tab.id, view = tab.make());
    for (const button of nav.querySelectorAll("button")) {
      button.setAttribute("aria-selected", String(button.dataset.tab === tab.id));
    }
    panel.replaceChildren(el("h2", {}, tab.title), view.root);
    panel.setAttribute("aria-labelledby", `tab-${tab.id}`);
    // `data-ready` names the tab once its data is shown (tests wait for it before clicking).
    delete panel.dataset.ready;
    const shown = view;
    void shown.refresh().finally(() => {
      if (views.get(tab.id) === shown && panel.contains(shown.root)) panel.dataset.ready = tab.id;
    });
    if (location.hash !== `#${tab.id}`) history.replaceState(null, "", `#${tab.id}`);
  };
  put(
    nav,
    TABS.map((t) =>
      el("button", {
        type: "button",
        role: "tab",
        id: `tab-${t.id}`,
        "data-tab": t.id,
        onclick: () => open(t.id),
      }, t.title)
    ),
  );
  // Arrow keys move between tabs, as in the ARIA tabs pattern; Tab and Enter work as on buttons.
  nav.addEventListener("keydown", (e) => {
    if (e.key !== "ArrowRight" && e.key !== "ArrowLeft") return;
    const buttons = [...nav.querySelectorAll<HTMLButtonElement>("button[role=tab]")];
    const at = buttons.indexOf(document.activeElement as HTMLButtonElement);
    if (at < 0) return;
    const next = buttons[(at + (e.key === "ArrowRight" ? 1 : buttons.length - 1)) % buttons.length];
    next.focus();
    open(next.dataset.tab!);
    e.preventDefault();
  });
  // Only a page that sent a token has one to forget.
  const signOut = token() !== null && el("button", {
    type: "button",
    class: "secondary sign-out",
    onclick: () => {
      setToken(null);
      location.reload();
    },
  }, "Forget token");
  put(app, el("div", { class: "top-bar" }, nav, signOut), panel);
  open(location.hash.slice(1));
}

async function start(): Promise<void> {
  const app = document.getElementById("app")!;
  let ok = await authorised();
  while (ok !== true) {
    if (ok === false) await tokenForm(app, null);
    else {
      put(
        app,
        errorBox(ok),
        el("button", { type: "button", onclick: () => location.reload() }, "Retry"),
      );
      return;
    }
    ok = await authorised();
  }
  let asking = false;
  onUnauthorized(() => {
    if (asking) return;
    asking = true;
    const overlay = el("div", { class: "overlay" });
    document.body.append(overlay);
    void tokenForm(overlay, errorBox(new Error("The service refused the token; enter it again.")))
      .then(() => {
        overlay.remove();
        asking = false;
      });
  });
  showTabs(app);
}

void start();
