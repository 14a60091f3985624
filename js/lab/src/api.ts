/**
 * The server extension's REST API (/nbtrack/api/…), called with the Jupyter server's own
 * settings: the same origin, token and XSRF handling as every JupyterLab request.
 */

import { URLExt } from "@jupyterlab/coreutils";
import { ServerConnection } from "@jupyterlab/services";

/** An error the API answered with: its message, and for a bad filter where it went wrong. */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly position: number | null = null,
  ) {
    super(message);
  }
}

export type Query = Record<string, string | number | null | undefined>;

function url(path: string, query: Query = {}): string {
  const settings = ServerConnection.makeSettings();
  const params = Object.entries(query)
    .filter(([, value]) => value !== null && value !== undefined && value !== "")
    .map(([key, value]) => `${encodeURIComponent(key)}=${encodeURIComponent(String(value))}`);
  const base = URLExt.join(settings.baseUrl, "nbtrack", "api", path);
  return params.length ? `${base}?${params.join("&")}` : base;
}

/** The URL of a run's artifact (served by the API, for <img> and links). */
export function artifactUrl(runId: string, path: string, store: Query): string {
  const encoded = path.split("/").map(encodeURIComponent).join("/");
  return url(`runs/${encodeURIComponent(runId)}/artifacts/${encoded}`, store);
}

export async function request<T>(path: string, query: Query = {}, init: RequestInit = {}): Promise<T> {
  const settings = ServerConnection.makeSettings();
  const response = await ServerConnection.makeRequest(url(path, query), init, settings);
  const text = await response.text();
  const body = text ? JSON.parse(text) : {};
  if (!response.ok) {
    throw new ApiError(
      body.error ?? `${response.status} ${response.statusText}`,
      response.status,
      body.position ?? null,
    );
  }
  return body as T;
}

// --- what the API answers ----------------------------------------------------------------------

export interface Experiment {
  name: string;
  runs: number;
  running: number;
  last_start: string | null;
}

export interface StoreInfo {
  root: string;
  exists: boolean;
  experiments: Experiment[];
  active: number;
  /** Changes whenever anything in the store does. */
  version: string;
}

export interface RunRow {
  run_id: string;
  name: string;
  experiment: string;
  status: string;
  start_time: string | null;
  end_time: string | null;
  duration: number | null;
  parent_run_id: string | null;
  notebook: string | null;
  cell_id: string | null;
  params: Record<string, unknown>;
  metrics: Record<string, number | null>;
  tags: Record<string, string>;
}

export interface RunPage {
  runs: RunRow[];
  total: number;
  columns: { params: string[]; metrics: string[]; tags: string[] };
}

export interface MetricSummary {
  last: number | null;
  min: number | null;
  max: number | null;
  count: number;
  step: number | null;
}

export interface Artifact {
  path: string;
  size: number;
}

export interface RunDetail {
  run_id: string;
  deleted: boolean;
  duration: number | null;
  name: string;
  experiment: string;
  status: string;
  start_time: string | null;
  end_time: string | null;
  error: string | null;
  parent_id: string | null;
  params: Record<string, unknown>;
  metrics: Record<string, number>;
  metric_summaries: Record<string, MetricSummary>;
  tags: Record<string, string>;
  artifacts: Artifact[];
  context: Record<string, unknown>;
  children: string[];
  previous: string | null;
  diff: {
    params?: Record<string, [unknown, unknown]>;
    metrics?: Record<string, [unknown, unknown]>;
    code?: string;
  } | null;
  models?: Record<string, unknown>[];
}

export interface CellBadge {
  run_id: string;
  name: string;
  status: string;
  duration: number | null;
  metric: [string, number] | null;
  start_time: string | null;
}
