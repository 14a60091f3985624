/**
 * The curve chart shared by MetricPlot and Compare: runs the Vega spec Python compiled (from
 * Vega-Lite) in a Vega view (bundled, nothing fetched), feeds it the decoded points, merges the
 * new points that live refreshes send, recomputes the smoothed values in the browser when
 * the smoothing slider moves, and zooms (zoom-gestures.ts): the range shown is drawn at once
 * and sent as `x_range`, which Python answers with the points inside it.
 */

import type { AnyModel } from "@anywidget/types";
import { type Config, type Loader, type Spec, View, parse } from "vega";
import { Handler } from "vega-tooltip";
import { batched, h, onChanges, perFrame, save } from "./dom";
import type { CurveTraits, VegaJson } from "./models";
import {
  type CurvePoint,
  type DecodedSeries,
  LiveCurves,
  curveRows,
  decodeSeries,
  hoverRows,
  isCurvePatch,
} from "./series";
import { type XRange, asRange, sameRange } from "./zoom";
import { type PlotFrame, zoomGestures } from "./zoom-gestures";

/** The named datasets the spec reads: the points, and a thinned copy to hover (charts.py). */
const DATASET = "points";
const HOVER_DATASET = "hover";
/** The spec's signal of the x range shown (null: the data's). */
const X_RANGE = "x_range";
const ZOOM_HELP = "drag to zoom, shift-drag or scroll sideways to pan, scroll to zoom, double-click to see all";

/**
 * A loader that refuses everything: the specs carry their data inline or through DATASET, so a
 * URL in one would be a bug, and the widget must not reach the network behind the user's back.
 */
const OFFLINE_LOADER = (() => {
  const refuse = (uri: unknown): Promise<never> =>
    Promise.reject(new Error(`nbtrack charts load no external resources (${String(uri)})`));
  return { load: refuse, sanitize: refuse, http: refuse, file: refuse };
})() as unknown as Loader;

/**
 * Vega draws on a canvas, which cannot read CSS variables: give it the theme's colours as they
 * resolve on the chart's element (see the --nbt-* variables in styles.css).
 */
function themeConfig(el: HTMLElement): Config {
  const style = getComputedStyle(el);
  const read = (name: string, fallback: string): string => style.getPropertyValue(name).trim() || fallback;
  const text = style.color || "#333";
  const muted = read("--nbt-muted", "#808080");
  const grid = read("--nbt-grid", "rgba(128, 128, 128, 0.25)");
  const font = read("--nbt-font", "sans-serif");
  return {
    background: "transparent",
    text: { font },
    axis: {
      labelColor: muted,
      titleColor: text,
      gridColor: grid,
      domainColor: grid,
      tickColor: grid,
      labelFont: font,
      titleFont: font,
    },
    legend: { labelColor: text, titleColor: text, labelFont: font, titleFont: font },
    title: { color: text, font },
    style: { cell: { stroke: grid } },
  };
}

/**
 * Whether the theme is dark: JupyterLab says so on <body>; elsewhere, light text means a dark
 * background. Picks the tooltip's theme (the tooltip lives on <body>, outside our styles).
 */
function isDark(el: HTMLElement): boolean {
  const light = document.body.dataset.jpThemeLight;
  if (light !== undefined) return light === "false";
  const [r, g, b] = (getComputedStyle(el).color.match(/\d+(\.\d+)?/g) ?? []).map(Number);
  return r !== undefined && 0.299 * r + 0.587 * g + 0.114 * b > 140;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** A chart area: the Vega view, or a muted "no points yet", or an error. */
export class CurveChart {
  readonly el: HTMLDivElement;
  private readonly host: HTMLDivElement;
  private readonly message: HTMLParagraphElement;
  private readonly error: HTMLPreElement;
  private spec: Spec | null = null;
  private rows: CurvePoint[] = [];
  /** The x range shown (null: all of it), and the one drawn last when not zoomed. */
  private xRange: XRange | null = null;
  private home: XRange | null = null;
  private view: View | null = null;
  private target: HTMLDivElement | null = null;
  /** An error stays shown until what caused it (the spec, or the data) is replaced. */
  private specError: string | null = null;
  private dataError: string | null = null;
  /** Bumped by every embed: an embed that finishes after a newer one started is dropped. */
  private generation = 0;
  /**
   * An embed waits until the chart is in the page (where the theme's colours can be read) and
   * has points: a view made in a hidden (empty) chart would not take the mouse (no tooltips).
   */
  private embedPending = false;
  private readonly resizeObserver: ResizeObserver;
  private readonly themeObserver: MutationObserver;

  /** `onDrawn` is told after every draw (for the saved notebook's image). */
  constructor(private readonly onDrawn: () => void = () => {}) {
    this.host = h("div", { class: "nbt-chart-host" });
    this.message = h("p", { class: "nbt-empty" }, "no points yet");
    this.error = h("pre", { class: "nbt-error", role: "alert", hidden: true });
    const label = `curves: ${ZOOM_HELP}; + and - zoom, arrow keys pan, 0 shows all`;
    this.el = h(
      "div",
      { class: "nbt-chart", tabindex: 0, role: "group", "aria-label": label, title: ZOOM_HELP },
      this.host,
      this.message,
      this.error,
    );
    // Vega-Lite's width "container" follows window resizes only; a notebook cell also changes
    // width when a side panel opens, and is 0 wide until JupyterLab attaches the output. The
    // first notification also says that the chart is now in the page.
    this.resizeObserver = new ResizeObserver(() => this.onResize());
    this.resizeObserver.observe(this.el);
    // Canvas colours are fixed at embed time: embed again when JupyterLab switches theme.
    this.themeObserver = new MutationObserver(() => void this.embed());
    this.themeObserver.observe(document.body, {
      attributeFilter: ["data-jp-theme-light", "data-jp-theme-name"],
    });
    this.refresh();
  }

  setSpec(spec: VegaJson | null | undefined): void {
    // Python's spec is Vega JSON (compiled from Altair's Vega-Lite); parse() checks it.
    this.spec = spec && Object.keys(spec).length > 0 ? (spec as unknown as Spec) : null;
    void this.embed();
  }

  setRows(rows: CurvePoint[]): void {
    this.rows = rows;
    this.dataError = null;
    this.refresh();
    if (this.embedPending) void this.embed();
    else void this.pushRows();
  }

  /** Show the x range `range` (null: all of it), before its points come if need be. */
  setXRange(range: XRange | null): void {
    if (sameRange(range, this.xRange)) return;
    this.xRange = range;
    void this.pushRows();
  }

  /** Where the plot area is on screen, and the x range it shows (null before a draw). */
  frame(): PlotFrame | null {
    const view = this.view;
    const canvas = this.target?.querySelector("canvas, svg");
    if (!view || !canvas) return null;
    const shown = this.xRange ?? this.drawnRange(view);
    if (shown === null) return null;
    const box = canvas.getBoundingClientRect();
    const [x, y] = view.origin();
    return { left: box.left + x, top: box.top + y, width: view.width(), height: view.height(), shown, home: this.home };
  }

  /** The x range the view draws, in the axis' units (a time scale counts milliseconds). */
  private drawnRange(view: View): XRange | null {
    const scale = view.scale("x") as { domain(): unknown[]; type?: string } | undefined;
    const perUnit = scale?.type === "time" || scale?.type === "utc" ? 1000 : 1;
    const [low, high] = (scale?.domain() ?? []).map((value) => Number(value) / perUnit);
    return asRange([low, high]);
  }

  /** The data could not be read: say why, in place of the curves. */
  setDataError(error: unknown): void {
    this.dataError = errorText(error);
    this.refresh();
  }

  dispose(): void {
    this.generation += 1;
    this.resizeObserver.disconnect();
    this.themeObserver.disconnect();
    this.finalize();
  }

  private refresh(): void {
    const error = this.dataError ?? this.specError;
    const empty = error === null && this.rows.length === 0;
    this.error.textContent = error ?? "";
    this.error.hidden = error === null;
    this.message.hidden = !empty;
    this.host.hidden = empty || error !== null;
  }

  private finalize(): void {
    this.view?.finalize();
    this.view = null;
  }

  private onResize(): void {
    // Changing the layout inside the observer's callback would resize what it observes, which
    // browsers report as an error ("ResizeObserver loop"): act in the next frame instead.
    requestAnimationFrame(() => {
      if (this.embedPending && this.el.isConnected) void this.embed();
      else this.fitWidth();
    });
  }

  private async embed(): Promise<void> {
    const generation = ++this.generation;
    this.finalize();
    this.specError = null;
    this.refresh();
    this.embedPending = this.spec !== null && (!this.el.isConnected || this.rows.length === 0);
    if (this.spec === null || this.embedPending) return;
    // A fresh element per embed, so that a stale embed still finishing draws off-screen.
    const target = h("div", { class: "nbt-chart-target" });
    this.host.replaceChildren(target);
    this.target = target;
    try {
      const view = new View(parse(this.spec, themeConfig(this.el)), {
        container: target,
        renderer: "canvas",
        hover: true,
        loader: OFFLINE_LOADER,
        tooltip: new Handler({ theme: isDark(this.el) ? "dark" : "light" }).call,
      });
      // the container's width from the start: a later change of width runs the whole chart again
      if (target.clientWidth > 0) view.width(target.clientWidth);
      view.signal(X_RANGE, this.xRange);
      await view.runAsync();
      if (generation !== this.generation) {
        view.finalize();
        return;
      }
      this.view = view;
      this.fitWidth();
      await this.pushRows();
    } catch (error) {
      if (generation !== this.generation) return;
      this.specError = errorText(error);
      this.refresh();
    }
  }

  private async pushRows(): Promise<void> {
    const view = this.view;
    if (!view) return; // the embed under way pushes the rows when it is done
    const range = this.xRange;
    // (the points just outside a zoomed range take no hover: their tooltips would show nothing)
    const hovered = range ? this.rows.filter((row) => row.x >= range[0] && row.x <= range[1]) : this.rows;
    try {
      await view.signal(X_RANGE, range).data(DATASET, this.rows).data(HOVER_DATASET, hoverRows(hovered)).runAsync();
      if (view !== this.view) return;
      if (range === null) this.home = this.drawnRange(view);
      this.onDrawn();
    } catch (error) {
      this.setDataError(error);
    }
  }

  /** The specs fill their container's width ("container" in Vega-Lite): keep it so. */
  private fitWidth(): void {
    const view = this.view;
    if (!view || !this.target) return;
    const width = this.target.clientWidth;
    if (width > 0 && width !== view.width()) void view.width(width).runAsync().then(this.onDrawn);
  }
}

/** The smoothing slider: previews every move in the browser, saves the trait on release. */
function smoothingSlider(
  initial: number,
  preview: (weight: number) => void,
  commit: (weight: number) => void,
): { el: HTMLLabelElement; set: (weight: number) => void } {
  const input = h("input", { type: "range", min: 0, max: 0.99, step: 0.01, "aria-label": "smoothing" });
  const output = h("output", { class: "nbt-slider-value" });
  const set = (weight: number): void => {
    input.value = String(weight);
    output.textContent = weight.toFixed(2);
  };
  set(initial);
  const previewPerFrame = perFrame(preview);
  input.addEventListener("input", () => {
    output.textContent = Number(input.value).toFixed(2);
    previewPerFrame(Number(input.value));
  });
  // "change" fires once on release (or per key press): one message to Python, not one per pixel.
  input.addEventListener("change", () => commit(Number(input.value)));
  return { el: h("label", { class: "nbt-option" }, "smoothing", input, output), set };
}

export interface MountedCurves {
  /** The chart area. */
  chart: HTMLElement;
  /** The smoothing slider, for the caller's toolbar. */
  slider: HTMLElement;
  /** The button that shows all of a zoomed chart, for the caller's toolbar (hidden unzoomed). */
  reset: HTMLElement;
  dispose: () => void;
}

/** The chart's zoom: gestures show a range at once and save it as `x_range`; a range Python
 * (or another view) sets is shown. Returns the reset button and what stops it all. */
function mountZoom(model: AnyModel<CurveTraits>, chart: CurveChart): { reset: HTMLElement; stop: () => void } {
  const reset = h("button", { type: "button", class: "nbt-button nbt-zoom-reset", title: ZOOM_HELP }, "show all");
  const show = (range: XRange | null): void => {
    chart.setXRange(range);
    reset.hidden = range === null;
  };
  const commit = (range: XRange | null): void => {
    if (!sameRange(range, asRange(model.get("x_range")))) save(model, "x_range", range && [range[0], range[1]]);
  };
  reset.addEventListener("click", () => {
    show(null);
    commit(null);
  });
  const stopGestures = zoomGestures(chart.el, { frame: () => chart.frame(), show }, commit);
  const stopListening = onChanges(model, ["x_range"], () => show(asRange(model.get("x_range"))));
  show(asRange(model.get("x_range")));
  return {
    reset,
    stop: () => {
      stopGestures();
      stopListening();
    },
  };
}

/** The curve state of every model, live patches merged (see LiveCurves). */
const live = new LiveCurves();

/**
 * Merge Python's live patches into the model's curve state, for every view of it to redraw;
 * returns what stops listening. A view whose model misses messages (one that came while no view
 * listened, or one that does not fit) asks Python for the full state.
 */
function followPatches(model: AnyModel<CurveTraits>): () => void {
  const requestState = (version: number | null): void => model.send({ type: "curves_sync", version });
  const onMessage = (content: unknown, buffers: DataView[]): void => {
    if (!isCurvePatch(content)) return;
    try {
      if (live.merge(model, content, buffers[0]) === "stale") requestState(live.current(model).version);
    } catch (error) {
      console.warn(`nbtrack: a live update did not fit the chart (${errorText(error)}); reloading it`);
      requestState(null);
    }
  };
  model.on("msg:custom", onMessage);
  requestState(live.current(model).version);
  return () => model.off("msg:custom", onMessage);
}

/**
 * Wire a chart and its smoothing slider to a model's `_spec`, `_series`, `_data`, `smoothing`;
 * `onDrawn` is told after every draw.
 */
export function mountCurves(model: AnyModel<CurveTraits>, onDrawn?: () => void): MountedCurves {
  const chart = new CurveChart(onDrawn);
  let decoded: DecodedSeries[] = [];
  let weight = model.get("smoothing") ?? 0;
  const redraw = (): void => chart.setRows(curveRows(decoded, weight));

  const loadData = (): void => {
    try {
      const { series, data } = live.current(model);
      decoded = decodeSeries(series, data);
      redraw();
    } catch (error) {
      chart.setDataError(error);
    }
  };

  const slider = smoothingSlider(
    weight,
    (w) => {
      weight = w;
      redraw();
    },
    (w) => save(model, "smoothing", w),
  );
  const onSmoothing = (): void => {
    const value = model.get("smoothing") ?? 0;
    slider.set(value);
    if (value === weight) return; // our own save coming back
    weight = value;
    redraw();
  };
  const onSpec = (): void => chart.setSpec(model.get("_spec"));

  const zoom = mountZoom(model, chart);
  const stops = [
    zoom.stop,
    // `_series` and `_data` change together: decode once, after both change events.
    onChanges(model, ["_series", "_data"], batched(loadData)),
    live.listen(model, loadData),
    onChanges(model, ["smoothing"], onSmoothing),
    onChanges(model, ["_spec"], onSpec),
    followPatches(model),
  ];
  loadData();
  onSpec();
  return {
    chart: chart.el,
    slider: slider.el,
    reset: zoom.reset,
    dispose: () => {
      for (const stop of stops) stop();
      chart.dispose();
    },
  };
}
