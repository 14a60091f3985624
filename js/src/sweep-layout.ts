/**
 * What the sweep view shows, without the DOM: the axes (their scales), each run's shade along
 * the colour ramp, which runs are drawn and in what order, and how each is painted.
 */

import type { BrushAxis, Brushes } from "./brush";
import { formatMetric } from "./format";
import type { CellValue, SweepContent, SweepMetric, SweepParam } from "./models";
import { axisScale, rampColor } from "./scales";
import { CSS_PALETTE, type Palette, type Point } from "./sweep-marks";
import { BEST_KEPT, LINE_BUDGET, bestRuns, sampledRuns, shownParams } from "./sweep-pick";

/** The charts' height, and the scatter's width (the parallel chart takes the rest). */
export const HEIGHT = 250;
export const SCATTER_WIDTH = 340;
/** How far (pixels) from a line or a dot drawn in bulk the pointer still picks it. */
export const HOVER_TOLERANCE = 4;

/** An axis of the charts: a param or the metric, with its scale and a value per run. */
export interface Axis extends BrushAxis {
  title: string;
  hint: string;
}

/** What the user chose to see: the model's `metric`, `param` (the scatter's x) and `axes`. */
export interface Choice {
  metric: string;
  param: string;
  axes: readonly string[];
}

export interface Layout {
  content: SweepContent;
  /** The params drawn as axes: those the model's `axes` names, or the default. */
  params: SweepParam[];
  /** The parallel chart's axes: those params, then the metric. */
  axes: Axis[];
  metricAxis: Axis | null;
  /** The scatter's x (an axis of the parallel chart or not). */
  paramAxis: Axis | null;
  /** The axes whose brushes count: the parallel chart's and the scatter's. */
  brushable: Axis[];
  /** Per run: 0..1 along the colour ramp (the best metric at 1), or null. */
  shade: Array<number | null>;
  ids: string[];
  /** The BEST_KEPT best runs by the metric, always drawn. */
  best: number[];
  /** Each run's tooltip, once made (see runTitle). */
  titles: Map<number, string>;
}

/** What one drawing shows of the runs. */
export interface Shown {
  /** The runs selected, or inside every brush. */
  chosen: Set<number>;
  /** The runs drawn, in drawing order (see drawOrder). */
  order: number[];
  /** How many runs there are, when only a sample is drawn; else 0. */
  sampledFrom: number;
}

/**
 * What a drag across a zone makes of the brushes it started with; `from` and `to` are in the
 * chart's pixels. Zones are found by their `data-nbt-drag` name, because a drag redraws the
 * chart (and so replaces the element it started on) at every move.
 */
export type DragZone = (base: Brushes, from: Point, to: Point) => Brushes;
export type Zones = Map<string, DragZone>;

function valueText(value: CellValue | undefined): string {
  if (value === null || value === undefined) return "–";
  return typeof value === "number" ? formatMetric(value) : String(value);
}

/** A metric's key and which way is better ("f1 ↑"). */
export function metricTitle(metric: SweepMetric): string {
  return `${metric.key} ${metric.higher_is_better ? "↑" : "↓"}`;
}

function paramAxis(param: SweepParam): Axis {
  return {
    key: `params.${param.key}`,
    title: param.key,
    hint: param.kind === "number" ? "param" : "param (categories)",
    scale: axisScale(param.values, param.kind === "number"),
    values: param.values,
  };
}

/** The layout of a sweep as the user chose to see it. */
export function layoutOf(content: SweepContent, choice: Choice): Layout {
  const params = shownParams(content.params, choice.metric, choice.axes);
  const axes = params.map(paramAxis);
  const metric = content.metrics.find((m) => m.key === choice.metric) ?? null;
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
    // The colours span the runs that have the metric: one without it sits at the axis' foot,
    // but is neither best nor worst.
    const ramp = axisScale(
      metric.values.filter((value) => value !== null),
      true,
    );
    shade = metric.values.map((value) => {
      const position = value === null ? null : ramp.position(value);
      return position === null ? null : metric.higher_is_better ? position : 1 - position;
    });
  }
  const xParam = content.params.find((param) => param.key === choice.param);
  const xAxis = xParam ? (axes.find((axis) => axis.key === `params.${xParam.key}`) ?? paramAxis(xParam)) : null;
  const brushable = xAxis && !axes.includes(xAxis) ? [...axes, xAxis] : axes;
  const ids = content.runs.map((run) => run.run_id);
  const best = bestRuns(shade, BEST_KEPT);
  return { content, params, axes, metricAxis, paramAxis: xAxis, brushable, shade, ids, best, titles: new Map() };
}

/** A run's tooltip: its name and its value on each axis. */
export function runTitle(layout: Layout, index: number): string {
  let title = layout.titles.get(index);
  if (title === undefined) {
    const run = layout.content.runs[index];
    const lines = [run.name || run.run_id];
    for (const axis of layout.axes) lines.push(`${axis.title}: ${valueText(axis.values[index])}`);
    title = lines.join("\n");
    layout.titles.set(index, title);
  }
  return title;
}

/** `runs` in drawing order: the chosen last, and the better last among each, to lie on top. */
function drawOrder(layout: Layout, chosen: Set<number>, runs: number[]): number[] {
  const rank = new Map(runs.map((i) => [i, (chosen.has(i) ? 3 : 0) + (layout.shade[i] ?? -1)]));
  return runs.sort((a, b) => (rank.get(a) ?? 0) - (rank.get(b) ?? 0));
}

/** The runs a drawing shows: all, or past LINE_BUDGET a sample holding the chosen and the best. */
export function shownRuns(layout: Layout, chosen: Set<number>): Shown {
  const { ids } = layout;
  const drawn = sampledRuns(ids, LINE_BUDGET, [...chosen, ...layout.best]);
  return { chosen, order: drawOrder(layout, chosen, drawn), sampledFrom: drawn.length < ids.length ? ids.length : 0 };
}

/**
 * How a run is drawn: faded grey beside a selection it is not in, else its metric's colour
 * (with `steps`, one of that many along the ramp).
 */
export function paint(
  layout: Layout,
  chosen: Set<number>,
  index: number,
  palette: Palette = CSS_PALETTE,
  steps = 0,
): { faded: boolean; color: string } {
  if (chosen.size > 0 && !chosen.has(index)) return { faded: true, color: palette.faded };
  const t = layout.shade[index];
  if (t === null) return { faded: false, color: palette.missing };
  return { faded: false, color: rampColor(steps > 0 ? Math.round(t * steps) / steps : t) };
}
