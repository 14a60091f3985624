/**
 * The sweep view of Compare: a parallel-coordinates chart (one axis per param that varies,
 * then the chosen metric; one line per run, coloured by the metric, best brightest) and a
 * scatter of one param against the metric. Dragging along an axis, or a box across the
 * scatter, brushes; the runs inside every brush become the model's `selected`. Drawn as SVG:
 * a few hundred runs are a few hundred paths.
 */

import type { AnyModel } from "@anywidget/types";
import { type BrushAxis, type Brushes, brushedRuns, keyedBrush, sameIds, setBrush } from "./brush";
import { type Mounted, h, keepingFocus, onChanges, perFrame, save } from "./dom";
import { formatMetric } from "./format";
import type { CellValue, CompareModel, SweepContent, SweepMetric } from "./models";
import { axisScale, rampColor } from "./scales";

type Model = AnyModel<CompareModel>;

const SVG_NS = "http://www.w3.org/2000/svg";
const HEIGHT = 250;
const AXIS_GAP = 110; // the least room between two parallel axes
const SCATTER_WIDTH = 340;
const PARALLEL = { top: 36, bottom: 12, left: 48, right: 64 };
const SCATTER = { top: 36, bottom: 34, left: 52, right: 14 };

interface Axis extends BrushAxis {
  title: string;
  hint: string;
}

interface Layout {
  content: SweepContent;
  axes: Axis[];
  metricAxis: Axis | null;
  paramAxis: Axis | null;
  /** Per run: 0..1 along the colour ramp (the best metric at 1), or null. */
  shade: Array<number | null>;
}

function svg<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | number> = {},
  ...children: Array<SVGElement | string>
): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attrs)) el.setAttribute(name, String(value));
  el.append(...children);
  return el;
}

function sweepOf(model: Model): SweepContent | null {
  const value = model.get("_sweep") as Partial<SweepContent> | undefined;
  if (!value?.runs || value.runs.length === 0) return null;
  return { runs: value.runs, params: value.params ?? [], constant: value.constant ?? [], metrics: value.metrics ?? [] };
}

function valueText(value: CellValue | undefined): string {
  if (value === null || value === undefined) return "–";
  return typeof value === "number" ? formatMetric(value) : String(value);
}

function metricTitle(metric: SweepMetric): string {
  return `${metric.key} ${metric.higher_is_better ? "↑" : "↓"}`;
}

function layoutOf(model: Model, content: SweepContent): Layout {
  const axes: Axis[] = content.params.map((param) => ({
    key: `params.${param.key}`,
    title: param.key,
    hint: param.kind === "number" ? "param" : "param (categories)",
    scale: axisScale(param.values, param.kind === "number"),
    values: param.values,
  }));
  const metric = content.metrics.find((m) => m.key === model.get("metric")) ?? null;
  let metricAxis: Axis | null = null;
  let shade: Array<number | null> = content.runs.map(() => null);
  if (metric) {
    const scale = axisScale(metric.values, true);
    metricAxis = {
      key: `metrics.${metric.key}`,
      title: metricTitle(metric),
      hint: metric.higher_is_better ? "metric: higher is better" : "metric: lower is better",
      scale,
      values: metric.values,
    };
    axes.push(metricAxis);
    shade = metric.values.map((value) => {
      const position = scale.position(value);
      return position === null ? null : metric.higher_is_better ? position : 1 - position;
    });
  }
  const paramAxis = axes.find((axis) => axis.key === `params.${model.get("param")}`) ?? null;
  return { content, axes, metricAxis, paramAxis, shade };
}

function runTitle(layout: Layout, index: number): string {
  const run = layout.content.runs[index];
  const lines = [run.name || run.run_id];
  for (const axis of layout.axes) lines.push(`${axis.title}: ${valueText(axis.values[index])}`);
  return lines.join("\n");
}

/** The runs in drawing order: the chosen ones last, so that they lie on top. */
function drawOrder(layout: Layout, chosen: Set<number>): number[] {
  return layout.content.runs.map((_, i) => i).sort((a, b) => Number(chosen.has(a)) - Number(chosen.has(b)));
}

/** How a run is drawn: faded grey beside a selection it is not in, else its metric's colour. */
function paint(layout: Layout, chosen: Set<number>, index: number): { faded: boolean; color: string } {
  if (chosen.size > 0 && !chosen.has(index)) return { faded: true, color: "var(--nbt-grid)" };
  const t = layout.shade[index];
  return { faded: false, color: t === null ? "var(--nbt-muted)" : rampColor(t) };
}

/** Ticks and title of a vertical axis at `x`, plus the zone that takes a brush. */
function verticalAxis(
  axis: Axis,
  x: number,
  top: number,
  height: number,
  brush?: readonly [number, number],
): SVGGElement {
  const y = (position: number): number => top + (1 - position) * height;
  const group = svg("g", { class: "nbt-axis", "data-nbt-axis": axis.key });
  group.append(svg("line", { x1: x, x2: x, y1: top, y2: top + height, class: "nbt-axis-line" }));
  for (const tick of axis.scale.ticks()) {
    group.append(
      svg("line", { x1: x - 3, x2: x, y1: y(tick.position), y2: y(tick.position), class: "nbt-axis-line" }),
      svg("text", { x: x + 5, y: y(tick.position), class: "nbt-tick", "dominant-baseline": "middle" }, tick.label),
    );
  }
  const title = axis.title.length > 16 ? `${axis.title.slice(0, 15)}…` : axis.title;
  group.append(
    svg(
      "text",
      { x, y: top - 14, class: "nbt-axis-title", "text-anchor": "middle" },
      title,
      svg("title", {}, `${axis.title} (${axis.hint}): drag along the axis to select`),
    ),
  );
  if (brush) {
    group.append(
      svg("rect", { x: x - 7, width: 14, y: y(brush[1]), height: (brush[1] - brush[0]) * height, class: "nbt-brush" }),
    );
  }
  // (a little beyond the axis' ends, so that a drag may start just past them)
  group.append(
    svg("rect", {
      x: x - 14,
      width: 28,
      y: top - 8,
      height: height + 16,
      class: "nbt-brush-zone",
      "data-nbt-drag": axis.key,
      "data-nbt-key": `axis:${axis.key}`,
      tabindex: 0,
      role: "group",
      "aria-label": `${axis.title}: arrow keys move a selected range, Shift+arrows resize it, Escape clears it`,
    }),
  );
  return group;
}

interface Point {
  x: number;
  y: number;
}

/**
 * What a drag across a zone makes of the brushes it started with; `from` and `to` are in the
 * chart's pixels. Zones are found by their `data-nbt-drag` name, because a drag redraws the
 * chart (and so replaces the element it started on) at every move.
 */
type DragZone = (base: Brushes, from: Point, to: Point) => Brushes;
type Zones = Map<string, DragZone>;

function parallelChart(
  layout: Layout,
  chosen: Set<number>,
  brushes: Brushes,
  width: number,
  zones: Zones,
): SVGSVGElement {
  const { axes } = layout;
  const chart = svg("svg", {
    class: "nbt-parallel",
    width,
    height: HEIGHT,
    role: "img",
    "aria-label": "parallel coordinates of the runs",
  });
  const height = HEIGHT - PARALLEL.top - PARALLEL.bottom;
  const span = width - PARALLEL.left - PARALLEL.right;
  const xs = axes.map((_, i) => PARALLEL.left + (axes.length === 1 ? span / 2 : (i * span) / (axes.length - 1)));
  const y = (position: number): number => PARALLEL.top + (1 - position) * height;
  const lines = svg("g", { class: "nbt-lines" });
  for (const index of drawOrder(layout, chosen)) {
    let d = "";
    let pen = false;
    axes.forEach((axis, i) => {
      const position = axis.scale.position(axis.values[index]);
      if (position === null) {
        pen = false;
        return;
      }
      d += `${pen ? "L" : "M"}${xs[i].toFixed(1)},${y(position).toFixed(1)}`;
      pen = true;
    });
    if (d === "") continue;
    const { faded, color } = paint(layout, chosen, index);
    lines.append(
      svg(
        "path",
        {
          d,
          class: faded ? "nbt-line nbt-faded" : "nbt-line",
          stroke: color,
          "data-run-id": layout.content.runs[index].run_id,
        },
        svg("title", {}, runTitle(layout, index)),
      ),
    );
  }
  chart.append(lines);
  axes.forEach((axis, i) => {
    const at = (point: Point): number => 1 - (point.y - PARALLEL.top) / height;
    zones.set(axis.key, (base, from, to) => setBrush(base, axis.key, at(from), at(to)));
    chart.append(verticalAxis(axis, xs[i], PARALLEL.top, height, brushes.get(axis.key)));
  });
  return chart;
}

function scatterChart(layout: Layout, chosen: Set<number>, brushes: Brushes, zones: Zones): SVGSVGElement | null {
  const { paramAxis: xAxis, metricAxis: yAxis } = layout;
  if (!xAxis || !yAxis) return null;
  const width = SCATTER_WIDTH;
  // The whole chart takes the drag, so that the dots above the zone keep their tooltips.
  const chart = svg("svg", {
    class: "nbt-scatter",
    width,
    height: HEIGHT,
    role: "img",
    "aria-label": `${xAxis.title} against ${yAxis.title}`,
    "data-nbt-drag": "scatter",
  });
  const plotW = width - SCATTER.left - SCATTER.right;
  const plotH = HEIGHT - SCATTER.top - SCATTER.bottom;
  const px = (position: number): number => SCATTER.left + position * plotW;
  const py = (position: number): number => SCATTER.top + (1 - position) * plotH;
  const grid = svg("g", { class: "nbt-axis" });
  for (const tick of yAxis.scale.ticks()) {
    grid.append(
      svg("line", {
        x1: SCATTER.left,
        x2: SCATTER.left + plotW,
        y1: py(tick.position),
        y2: py(tick.position),
        class: "nbt-grid-line",
      }),
      svg(
        "text",
        {
          x: SCATTER.left - 5,
          y: py(tick.position),
          class: "nbt-tick",
          "text-anchor": "end",
          "dominant-baseline": "middle",
        },
        tick.label,
      ),
    );
  }
  for (const tick of xAxis.scale.ticks()) {
    grid.append(
      svg("line", {
        x1: px(tick.position),
        x2: px(tick.position),
        y1: SCATTER.top,
        y2: SCATTER.top + plotH,
        class: "nbt-grid-line",
      }),
      svg(
        "text",
        { x: px(tick.position), y: SCATTER.top + plotH + 13, class: "nbt-tick", "text-anchor": "middle" },
        tick.label,
      ),
    );
  }
  grid.append(
    svg(
      "text",
      { x: SCATTER.left + plotW / 2, y: HEIGHT - 4, class: "nbt-axis-title", "text-anchor": "middle" },
      xAxis.title,
    ),
    svg(
      "text",
      { x: SCATTER.left, y: SCATTER.top - 14, class: "nbt-axis-title", "text-anchor": "middle" },
      yAxis.title,
    ),
  );
  chart.append(grid);
  chart.append(svg("rect", { x: SCATTER.left, y: SCATTER.top, width: plotW, height: plotH, class: "nbt-brush-zone" }));
  const dots = svg("g", { class: "nbt-dots" });
  // Runs sharing a category would hide one another: spread them a little, the same way each time.
  const jitter = (index: number): number => (xAxis.scale.kind === "category" ? ((index % 7) - 3) * 2 : 0);
  for (const index of drawOrder(layout, chosen)) {
    const x = xAxis.scale.position(xAxis.values[index]);
    const y = yAxis.scale.position(yAxis.values[index]);
    if (x === null || y === null) continue;
    const { faded, color } = paint(layout, chosen, index);
    dots.append(
      svg(
        "circle",
        {
          cx: px(x) + jitter(index),
          cy: py(y),
          r: 4,
          class: faded ? "nbt-point nbt-faded" : "nbt-point",
          fill: color,
          "data-run-id": layout.content.runs[index].run_id,
        },
        svg("title", {}, runTitle(layout, index)),
      ),
    );
  }
  chart.append(dots);
  const xb = brushes.get(xAxis.key);
  const yb = brushes.get(yAxis.key);
  if (xb || yb) {
    const [x0, x1] = xb ?? [0, 1];
    const [y0, y1] = yb ?? [0, 1];
    chart.append(
      svg("rect", { x: px(x0), y: py(y1), width: (x1 - x0) * plotW, height: (y1 - y0) * plotH, class: "nbt-brush" }),
    );
  }
  zones.set("scatter", (base, from, to) => {
    const fx = (p: Point): number => (p.x - SCATTER.left) / plotW;
    const fy = (p: Point): number => 1 - (p.y - SCATTER.top) / plotH;
    const next = setBrush(setBrush(base, xAxis.key, fx(from), fx(to)), yAxis.key, fy(from), fy(to));
    // A click (or a flat drag) clears both brushes: a box needs two sides.
    if (!next.has(xAxis.key) || !next.has(yAxis.key)) {
      next.delete(xAxis.key);
      next.delete(yAxis.key);
    }
    return next;
  });
  return chart;
}

function select(
  label: string,
  options: Array<{ value: string; text: string }>,
  value: string,
  onChange: (value: string) => void,
): HTMLLabelElement {
  const input = h(
    "select",
    { class: "nbt-select-input", "data-nbt-key": `sweep:${label}` },
    ...options.map((o) => h("option", { value: o.value }, o.text)),
  );
  input.value = value;
  input.addEventListener("change", () => onChange(input.value));
  return h("label", { class: "nbt-option" }, label, input);
}

function correlationText(value: number | null | undefined): string {
  return value === null || value === undefined ? "" : ` (ρ ${value >= 0 ? "+" : "−"}${Math.abs(value).toFixed(2)})`;
}

/** The sweep view, wired to the model's `_sweep`, `metric`, `param` and `selected`. */
export function mountSweep(model: Model): Mounted {
  const toolbar = h("div", { class: "nbt-toolbar" });
  const views = h("div", { class: "nbt-sweep-views" });
  const el = h("section", { class: "nbt-sweep" }, toolbar, views);
  let brushes: Brushes = new Map();
  /** What this view last sent as `selected`, to tell our own change from Python's. */
  let sent: string[] = model.get("selected") ?? [];
  let width = 0;
  let zones: Zones = new Map();
  let dragging = false;

  const chosenIndices = (layout: Layout, current: Brushes): number[] => {
    if (current.size > 0) return brushedRuns(layout.axes, current, layout.content.runs.length);
    const wanted = new Set(model.get("selected") ?? []);
    return layout.content.runs.flatMap((run, i) => (wanted.has(run.run_id) ? [i] : []));
  };

  const draw = (preview?: Brushes): void => {
    const content = sweepOf(model);
    el.hidden = content === null;
    if (content === null) return;
    const layout = layoutOf(model, content);
    const current = preview ?? brushes;
    const chosen = new Set(chosenIndices(layout, current));
    const room = Math.max(width - SCATTER_WIDTH - 24, 320);
    zones = new Map();
    const parallel = parallelChart(layout, chosen, current, Math.max(room, layout.axes.length * AXIS_GAP), zones);
    const scatter = scatterChart(layout, chosen, current, zones);
    views.replaceChildren(h("div", { class: "nbt-scroll nbt-parallel-box" }, parallel), ...(scatter ? [scatter] : []));
    drawToolbar(layout, chosen.size, current.size > 0 || chosen.size > 0);
  };
  const previewPerFrame = perFrame((next: Brushes) => {
    if (dragging) draw(next);
  });

  // The listeners sit on the views, which outlive the charts that every move redraws.
  // The keyboard's way to brush: a focused axis takes the arrow keys (see keyedBrush).
  views.addEventListener("keydown", (event: KeyboardEvent) => {
    const zone = event.target instanceof Element ? event.target.closest("[data-nbt-key^='axis:']") : null;
    const key = zone?.getAttribute("data-nbt-drag");
    if (!key) return;
    const next = keyedBrush(brushes.get(key), event.key, event.shiftKey);
    if (next === undefined) return;
    event.preventDefault();
    const updated = new Map(brushes);
    if (next === null) updated.delete(key);
    else updated.set(key, next);
    keepingFocus(views, () => commit(updated));
  });

  views.addEventListener("pointerdown", (down: PointerEvent) => {
    const target = down.target instanceof Element ? down.target.closest("[data-nbt-drag]") : null;
    const chart = target?.closest("svg");
    const zone = zones.get(target?.getAttribute("data-nbt-drag") ?? "");
    if (down.button !== 0 || !chart || !zone) return;
    down.preventDefault();
    const box = chart.getBoundingClientRect();
    const local = (event: PointerEvent): Point => ({ x: event.clientX - box.left, y: event.clientY - box.top });
    const [from, base] = [local(down), brushes];
    dragging = true;
    views.setPointerCapture(down.pointerId);
    const onMove = (event: PointerEvent): void => previewPerFrame(zone(base, from, local(event)));
    const onUp = (event: PointerEvent): void => {
      dragging = false;
      views.removeEventListener("pointermove", onMove);
      views.removeEventListener("pointerup", onUp);
      views.removeEventListener("pointercancel", onUp);
      commit(zone(base, from, local(event)));
    };
    views.addEventListener("pointermove", onMove);
    views.addEventListener("pointerup", onUp);
    views.addEventListener("pointercancel", onUp);
  });

  const drawToolbar = (layout: Layout, chosen: number, clearable: boolean): void => {
    const { content } = layout;
    const metric = model.get("metric") ?? "";
    const metrics = content.metrics.map((m) => ({ value: m.key, text: metricTitle(m) }));
    const params = content.params.map((p) => ({
      value: p.key,
      text: `${p.key}${correlationText(p.correlation[metric])}`,
    }));
    const clear = h(
      "button",
      { class: "nbt-button", type: "button", disabled: !clearable, "data-nbt-key": "sweep:clear" },
      "clear selection",
    );
    clear.addEventListener("click", () => commit(new Map()));
    const constant = content.constant.length;
    toolbar.replaceChildren(
      h("h4", { class: "nbt-heading" }, "sweep"),
      ...(metrics.length > 0 ? [select("metric", metrics, metric, (v) => save(model, "metric", v))] : []),
      ...(params.length > 0 ? [select("x", params, model.get("param") ?? "", (v) => save(model, "param", v))] : []),
      h("span", { class: "nbt-sweep-count", role: "status" }, `${chosen} of ${content.runs.length} runs selected`),
      clear,
      ...(constant > 0
        ? [
            h(
              "span",
              { class: "nbt-muted", title: content.constant.join(", ") },
              `${constant} param${constant === 1 ? "" : "s"} the same in every run`,
            ),
          ]
        : []),
    );
  };

  const send = (ids: string[]): void => {
    sent = ids;
    save(model, "selected", ids);
  };

  const commit = (next: Brushes): void => {
    brushes = next;
    const content = sweepOf(model);
    if (content && next.size > 0) {
      const layout = layoutOf(model, content);
      const ids = brushedRuns(layout.axes, next, content.runs.length).map((i) => content.runs[i].run_id);
      if (!sameIds(ids, model.get("selected") ?? [])) send(ids);
    } else if (next.size === 0 && (model.get("selected") ?? []).length > 0) {
      send([]);
    }
    draw();
  };

  const onSelected = (): void => {
    const ids = model.get("selected") ?? [];
    if (sameIds(ids, sent)) return;
    sent = ids;
    brushes = new Map(); // chosen in Python (or another view): show that instead of brushes
    draw();
  };

  // Live refreshes bring new runs: a brush keeps its range and takes in those inside it. A
  // brush on an axis no longer shown (another metric chosen) stops counting.
  const onContent = (): void => (brushes.size > 0 ? commit(brushes) : draw());

  const resize = new ResizeObserver(
    perFrame(() => {
      const next = el.clientWidth;
      if (next > 0 && Math.abs(next - width) > 8) {
        width = next;
        draw();
      }
    }),
  );
  resize.observe(el);
  const stops = [
    onChanges(model, ["_sweep"], onContent),
    onChanges(model, ["metric", "param"], onContent),
    onChanges(model, ["selected"], onSelected),
  ];
  draw();
  return {
    el,
    dispose: () => {
      resize.disconnect();
      for (const stop of stops) stop();
    },
  };
}
