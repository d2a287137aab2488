// A tiny element builder and the page's shared message boxes: the page has no component library.
import { ApiFailure } from "./api.ts";

type Child = Node | string | number | null | undefined | false;
type Attrs = Record<string, string | number | boolean | EventListener | undefined | null>;

/** `el("button", {type: "button", onclick: f}, "Go")`: attributes, `on*` listeners, children. */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: (Child | Child[])[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") {
      node.addEventListener(key.slice(2), value);
    } else if (value === true) node.setAttribute(key, "");
    else node.setAttribute(key, String(value));
  }
  append(node, children);
  return node;
}

function append(node: Node, children: (Child | Child[])[]): void {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.appendChild(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replaces a node's children. */
export function put(node: Element, ...children: (Child | Child[])[]): void {
  node.replaceChildren();
  append(node, children);
}

let fieldCount = 0;
/** A labelled form control: the label names the control through `for`/`id`. */
export function field(label: string, control: HTMLElement, hint?: string): HTMLElement {
  if (!control.id) control.id = `field-${++fieldCount}`;
  return el(
    "div",
    { class: "field" },
    el("label", { for: control.id }, label),
    control,
    hint ? el("small", {}, hint) : null,
  );
}

/** The server's error as the page shows it: code, message and the details it named. */
export function errorBox(error: unknown): HTMLElement {
  if (error instanceof ApiFailure) {
    const details = error.details && Object.keys(error.details).length > 0
      ? el("pre", {}, JSON.stringify(error.details, null, 1))
      : null;
    return el(
      "div",
      { class: "error", role: "alert" },
      el("strong", {}, `${error.status} ${error.code}: `),
      error.message,
      details,
    );
  }
  const message = error instanceof Error ? error.message : String(error);
  return el("div", { class: "error", role: "alert" }, message);
}

/** Runs an action, showing its failure in `where` instead of leaving a blank view. */
export async function guarded(where: Element, action: () => Promise<void>): Promise<void> {
  try {
    await action();
  } catch (e) {
    where.appendChild(errorBox(e));
  }
}

export function note(text: string, kind: "info" | "ok" | "warn" = "info"): HTMLElement {
  return el("p", { class: `note ${kind}`, role: "status" }, text);
}

/** A select filled with options; `selected` values start chosen. */
export function select(
  options: readonly { value: string; label: string }[],
  attrs: Attrs = {},
  selected: readonly string[] = [],
): HTMLSelectElement {
  const chosen = new Set(selected);
  return el(
    "select",
    attrs,
    options.map((o) => el("option", { value: o.value, selected: chosen.has(o.value) }, o.label)),
  );
}

export function selectedValues(node: HTMLSelectElement): string[] {
  return [...node.selectedOptions].map((o) => o.value);
}

export function table(head: string[], rows: Child[][], attrs: Attrs = {}): HTMLTableElement {
  return el(
    "table",
    attrs,
    el("thead", {}, el("tr", {}, head.map((h) => el("th", { scope: "col" }, h)))),
    el("tbody", {}, rows.map((r) => el("tr", {}, r.map((cell) => el("td", {}, cell))))),
  );
}

export function fmt(value: number | null | undefined, digits = 4): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return "–";
  const abs = Math.abs(value);
  return abs !== 0 && (abs < 1e-3 || abs >= 1e5) ? value.toExponential(2) : value.toFixed(digits);
}
