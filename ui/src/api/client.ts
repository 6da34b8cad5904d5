// One fetch helper for every endpoint: builds the query string, decodes Prometheus' JSON
// envelope (`{status, data}` or `{status: "error", errorType, error}`) and turns every failure
// into an ApiError whose message is what the server said.

/** An error from an API call, carrying the server's `errorType` when it gave one. */
export class ApiError extends Error {
  /** HTTP status (0 when the request never got an answer). */
  readonly status: number;
  /** Prometheus' `errorType` (`bad_data`, `execution`, …) or `""`. */
  readonly errorType: string;

  constructor(message: string, status: number, errorType = "") {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.errorType = errorType;
  }
}

/** Query parameters: repeated names as arrays; `undefined` values are left out. */
export type Query = Record<string, string | number | string[] | undefined>;

/** Builds `path?query`. */
export function withQuery(path: string, query: Query = {}): string {
  const sp = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined) continue;
    if (Array.isArray(v)) for (const x of v) sp.append(k, x);
    else sp.append(k, String(v));
  }
  const q = sp.toString();
  return q ? `${path}?${q}` : path;
}

interface Envelope<T> {
  status?: string;
  data?: T;
  errorType?: string;
  error?: string;
}

/** Fetches JSON, without assuming an envelope. */
export async function fetchJson<T>(url: string, signal?: AbortSignal): Promise<T> {
  let resp: Response;
  try {
    resp = await fetch(url, { signal: signal ?? null, headers: { Accept: "application/json" } });
  } catch (e) {
    if (e instanceof DOMException && e.name === "AbortError") throw e;
    throw new ApiError(`request failed: ${String(e)}`, 0);
  }
  const text = await resp.text();
  let body: unknown;
  try {
    body = text === "" ? null : JSON.parse(text);
  } catch {
    throw new ApiError(`HTTP ${resp.status}: ${text.slice(0, 300)}`, resp.status);
  }
  if (!resp.ok) {
    const env = (body ?? {}) as Envelope<unknown>;
    throw new ApiError(env.error ?? `HTTP ${resp.status}`, resp.status, env.errorType ?? "");
  }
  return body as T;
}

/** Fetches a Prometheus-style `{status, data}` response and returns `data`. */
export async function fetchData<T>(url: string, signal?: AbortSignal): Promise<T> {
  const env = await fetchJson<Envelope<T>>(url, signal);
  if (env.status !== "success" || env.data === undefined) {
    throw new ApiError(env.error ?? "malformed response", 200, env.errorType ?? "");
  }
  return env.data;
}
