/**
 * The widgets' own views (a metric plot, a comparison with its sweep view) drawn in the
 * extension's pages: the server builds their state as a kernel would (widgets/remote.py), and
 * each change the view makes (a brush, another metric) is sent back for the next state.
 */

import type { RenderProps } from "@anywidget/types";
import { URLExt } from "@jupyterlab/coreutils";
import { ServerConnection } from "@jupyterlab/services";
import type { ChartsModel } from "../../src/models";
import { type Query, request } from "./api";
import { LocalModel, type State } from "./model";

export type ViewKind = "plot" | "compare";

type Charts = { default: { render: (props: RenderProps<ChartsModel>) => () => void } };
let charts: Promise<Charts> | null = null;

/**
 * The widgets' chart bundle (plot and compare, with Vega), as the server extension serves it
 * from the installed package: the page loads the one copy the widgets use, on first need, so
 * the extension itself stays small. (A Function keeps the bundler from resolving the URL.)
 */
function loadCharts(): Promise<Charts> {
  if (charts === null) {
    const url = URLExt.join(ServerConnection.makeSettings().baseUrl, "nbtrack", "static", "charts.js");
    const load = new Function("url", "return import(url)") as (url: string) => Promise<Charts>;
    charts = load(url);
  }
  return charts;
}

/** Draw a `kind` view of `runs` (and `keys`, for a plot) in `el`; returns what removes it. */
export async function mountView(
  el: HTMLElement,
  kind: ViewKind,
  runs: string[],
  keys: string[],
  store: Query,
): Promise<() => void> {
  const traits: Record<string, unknown> = {};
  const fetchState = (): Promise<State> =>
    request<State>(`views/${kind}`, store, {
      method: "POST",
      body: JSON.stringify({ runs, keys, traits }),
    });
  let pending = Promise.resolve();
  const model = new LocalModel(await fetchState(), (changes) => {
    Object.assign(traits, changes);
    pending = pending.then(async () => model.update(await fetchState())).catch((err) => console.error("nbtrack:", err));
  });
  const controller = new AbortController();
  const props = { model, el, signal: controller.signal } as unknown as RenderProps<ChartsModel>;
  const dispose = (await loadCharts()).default.render(props);
  return () => {
    controller.abort();
    dispose();
  };
}
