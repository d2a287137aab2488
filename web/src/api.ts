// Calls to the service: the bearer token (kept for this tab in sessionStorage, never in a URL),
// JSON in and out, and the service's error body turned into an ApiFailure the page can show.
const TOKEN_KEY = "simfluence-token";

export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> | null = null,
  ) {
    super(message);
  }
}

export function token(): string | null {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function setToken(value: string | null): void {
  if (value === null) sessionStorage.removeItem(TOKEN_KEY);
  else sessionStorage.setItem(TOKEN_KEY, value);
}

/** Listeners told when the service answers 401 (the page then asks for the token again). */
const unauthorizedListeners: (() => void)[] = [];
export function onUnauthorized(listener: () => void): void {
  unauthorizedListeners.push(listener);
}

export function headers(extra: Record<string, string> = {}): Headers {
  const h = new Headers(extra);
  const t = token();
  if (t) h.set("Authorization", `Bearer ${t}`);
  return h;
}

/** Reads an error response into an ApiFailure (non-JSON bodies keep their text). */
export async function failure(response: Response): Promise<ApiFailure> {
  const text = await response.text();
  try {
    const body = JSON.parse(text);
    const e = body?.error;
    if (e && typeof e.message === "string") {
      return new ApiFailure(response.status, e.code ?? "error", e.message, e.details ?? null);
    }
  } catch {
    // not JSON: fall through
  }
  return new ApiFailure(response.status, "http_error", text || response.statusText);
}

export interface RequestOptions {
  method?: string;
  json?: unknown;
  body?: BodyInit;
  contentType?: string;
  accept?: string;
  signal?: AbortSignal;
}

/** A request to the service; non-2xx answers throw an ApiFailure. */
export async function call(path: string, options: RequestOptions = {}): Promise<Response> {
  const extra: Record<string, string> = {};
  let body = options.body;
  if (options.json !== undefined) {
    body = JSON.stringify(options.json);
    extra["Content-Type"] = "application/json";
  } else if (options.contentType) extra["Content-Type"] = options.contentType;
  if (options.accept) extra["Accept"] = options.accept;
  let response: Response;
  try {
    response = await fetch(path, {
      method: options.method ?? (body === undefined ? "GET" : "POST"),
      headers: headers(extra),
      body,
      signal: options.signal,
    });
  } catch (e) {
    if (options.signal?.aborted) throw e;
    throw new ApiFailure(0, "network_error", `the service did not answer: ${e}`);
  }
  if (!response.ok) {
    if (response.status === 401) unauthorizedListeners.forEach((f) => f());
    throw await failure(response);
  }
  return response;
}

export async function getJson<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const response = await call(path, options);
  return response.status === 204 ? (undefined as T) : await response.json() as T;
}

/** Every item of a paged list (`?limit=&offset=` answering `{<key>: [...], total}`). */
export async function listAll<T>(path: string, key: string, pageSize = 500): Promise<T[]> {
  const items: T[] = [];
  const sep = path.includes("?") ? "&" : "?";
  for (let offset = 0;; offset += pageSize) {
    const page = await getJson<Record<string, unknown>>(
      `${path}${sep}limit=${pageSize}&offset=${offset}`,
    );
    const got = (page[key] ?? []) as T[];
    items.push(...got);
    const total = typeof page.total === "number" ? page.total : items.length;
    if (got.length === 0 || items.length >= total) return items;
  }
}

export interface Run {
  id: string;
  study: string;
  name: string;
  steps: number;
  testExamples: number;
  distinctTrainExamples: number;
  source: string;
  /** The model and dataset a recorded run came from (null for uploads). */
  model: string | null;
  dataset: string | null;
  /** Recorded here with what a replay needs (metagradients, mask runs). */
  replayable: boolean;
  createdAt: string;
}

export interface Study {
  name: string;
  testExamples: string[];
  runs: number;
  simulators: number;
}

export function listStudies(): Promise<Study[]> {
  return listAll<Study>("/v1/studies", "studies");
}

export function runsOf(study: string): Promise<Run[]> {
  return listAll<Run>(`/v1/runs?study=${encodeURIComponent(study)}`, "runs");
}

export interface Trajectories {
  run: string;
  steps: number;
  trajectories: Record<string, number[]>;
}

export function trajectories(run: string, tests?: string[]): Promise<Trajectories> {
  const query = tests ? `?tests=${encodeURIComponent(tests.join(","))}` : "";
  return getJson<Trajectories>(`/v1/runs/${encodeURIComponent(run)}/trajectories${query}`);
}

export interface Simulator {
  id: string;
  study: string;
  kind: string;
  status: string;
  jobId: string | null;
  trainRuns: string[];
  validationRuns: string[];
  lambda: number | string | null;
  /** The λ the fit used (chosen on the validation runs when `lambda` is "auto"). */
  lambdaFactor: number | null;
  error: string | null;
  createdAt: string;
}

export function listSimulators(study?: string): Promise<Simulator[]> {
  const query = study ? `?study=${encodeURIComponent(study)}` : "";
  return listAll<Simulator>(`/v1/simulators${query}`, "simulators");
}

export const enc = encodeURIComponent;
