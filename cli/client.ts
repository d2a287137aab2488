// The HTTP client: base URL, bearer token, JSON in and out, and the service's error body turned
// into a ServerError whose message is the server's own.
import { CliError, EXIT, ServerError, type ServerErrorBody } from "./errors.ts";
import { readSse, type SseEvent } from "./sse.ts";

export const DEFAULT_URL = "http://127.0.0.1:8787";
export const TOKEN_ENV = "SIMFLUENCE_API_TOKEN";
export const URL_ENV = "SIMFLUENCE_URL";

export type Query = Record<string, string | number | boolean | undefined>;

export interface RequestOptions {
  query?: Query;
  /** Sent as application/json. */
  json?: unknown;
  /** Sent as is (a stream, bytes, form data), with `headers` saying what it is. */
  body?: BodyInit;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

function isErrorBody(value: unknown): value is ServerErrorBody {
  const error = (value as { error?: unknown } | null)?.error as Record<string, unknown> | undefined;
  return typeof error === "object" && error !== null && typeof error.message === "string";
}

export class Client {
  readonly baseUrl: string;
  constructor(baseUrl: string, readonly token: string | null) {
    this.baseUrl = baseUrl.replace(/\/+$/, "");
  }

  url(path: string, query: Query = {}): string {
    const url = new URL(this.baseUrl + path);
    for (const [key, value] of Object.entries(query)) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    return url.toString();
  }

  /** A 2xx response; anything else becomes a ServerError (or a connection CliError). */
  async request(method: string, path: string, options: RequestOptions = {}): Promise<Response> {
    const headers: Record<string, string> = { ...options.headers };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    let body = options.body;
    if (options.json !== undefined) {
      headers["content-type"] = "application/json";
      body = JSON.stringify(options.json);
    }
    let response: Response;
    try {
      response = await fetch(this.url(path, options.query), {
        method,
        headers,
        body,
        signal: options.signal,
      });
    } catch (e) {
      if (e instanceof CliError) throw e;
      throw new CliError(
        `cannot reach the service at ${this.baseUrl}: ${(e as Error).message}`,
        EXIT.connection,
      );
    }
    if (response.ok) return response;
    const text = await response.text();
    let parsed: unknown = null;
    try {
      parsed = JSON.parse(text);
    } catch {
      // Not the service's JSON: a proxy's page or another program on the port.
    }
    if (isErrorBody(parsed)) {
      const retryAfter = Number(response.headers.get("retry-after"));
      throw new ServerError(response.status, parsed, retryAfter > 0 ? retryAfter : null);
    }
    throw new CliError(
      `${method} ${path}: HTTP ${response.status} ${response.statusText}` +
        (text ? `: ${text.slice(0, 200)}` : ""),
      response.status >= 500 || response.status === 404 ? EXIT.connection : EXIT.failed,
    );
  }

  async json<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const response = await this.request(method, path, options);
    if (response.status === 204) return null as T;
    const text = await response.text();
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new CliError(
        `${method} ${path}: the answer is not JSON: ${text.slice(0, 200)}`,
        EXIT.connection,
      );
    }
  }

  get<T>(path: string, query?: Query): Promise<T> {
    return this.json<T>("GET", path, { query });
  }

  post<T>(path: string, json: unknown, query?: Query): Promise<T> {
    return this.json<T>("POST", path, { json, query });
  }

  async delete(path: string, query?: Query): Promise<void> {
    const response = await this.request("DELETE", path, { query });
    await response.body?.cancel();
  }

  /** An event stream; `signal` ends it early. */
  async *events(
    method: string,
    path: string,
    options: RequestOptions = {},
  ): AsyncGenerator<SseEvent> {
    const headers = { ...options.headers, accept: "text/event-stream" };
    const response = await this.request(method, path, { ...options, headers });
    if (!response.body) return;
    yield* readSse(response.body);
  }

  /** Every item of a paged list (`{<key>: [...], total}`), page by page. */
  async all<T>(path: string, key: string, query: Query = {}, pageSize = 500): Promise<T[]> {
    const items: T[] = [];
    for (let offset = 0;; offset += pageSize) {
      const page = await this.get<Record<string, unknown>>(path, {
        ...query,
        limit: pageSize,
        offset,
      });
      const batch = (page[key] ?? []) as T[];
      items.push(...batch);
      const total = typeof page.total === "number" ? page.total : null;
      if (batch.length === 0 || (total !== null && items.length >= total)) return items;
      if (total === null && batch.length < pageSize) return items;
    }
  }
}
