/**
 * The parallel-coordinates chart of a sweep: an axis per param drawn, then the metric, and a line
 * per run drawn. A few hundred lines are SVG paths, each with its tooltip; more go on a canvas
 * under the SVG (which keeps the axes, brushes and pointer), in the same `.nbt-parallel-box`.
 */

import { type Brushes, setBrush } from "./brush";
import { h } from "./dom";
import {
  type Axis,
  HEIGHT,
  HOVER_TOLERANCE,
  type Layout,
  SCATTER_WIDTH,
  type Shown,
  type Zones,
  paint,
  runTitle,
} from "./sweep-layout";
import { type Point, type Polyline, hoverMarks, linesCanvas, nearestLine, svg, themePalette } from "./sweep-marks";
import { BEST_KEPT, SVG_LINES } from "./sweep-pick";

const AXIS_GAP = 100; // the least room between two parallel axes
const TITLE_CHARS = 14; // longer axis titles are cut, to fit in that room
const MIN_WIDTH = 320;
const VIEWS_GAP = 24; // between the charts side by side, with the parallel box's border
const PARALLEL = { top: 36, bottom: 12, left: 48, right: 64 };
/** Room above the axes' titles for the line that says the runs drawn are a sample. */
const NOTE_ROOM = 12;

/** A run's line in the parallel chart. */
interface Line {
  index: number;
  parts: Polyline;
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
      // (outlined in the background's colour, to stay readable over the lines: see styles.css)
      svg(
        "text",
        {
          x: x + 5,
          y: y(tick.position),
          class: "nbt-tick",
          "dominant-baseline": "middle",
          "paint-order": "stroke",
          "stroke-linejoin": "round",
        },
        tick.label,
      ),
    );
  }
  const title = axis.title.length > TITLE_CHARS ? `${axis.title.slice(0, TITLE_CHARS - 1)}…` : axis.title;
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

/** A run's line across `axes` at `xs`, broken where it has no value. */
function polyline(
  axes: readonly Axis[],
  xs: readonly number[],
  y: (position: number) => number,
  index: number,
): Polyline {
  const parts: Polyline = [];
  let pen = false;
  axes.forEach((axis, i) => {
    const position = axis.scale.position(axis.values[index]);
    if (position === null) {
      pen = false;
      return;
    }
    if (!pen) parts.push([]);
    parts[parts.length - 1].push({ x: xs[i], y: y(position) });
    pen = true;
  });
  return parts;
}

/** A run's line as an SVG path, with its tooltip. */
function linePath(layout: Layout, chosen: Set<number>, line: Line, extra = ""): SVGPathElement {
  const d = line.parts
    .map((part) => part.map(({ x, y }, i) => `${i === 0 ? "M" : "L"}${x.toFixed(1)},${y.toFixed(1)}`).join(""))
    .join("");
  const { faded, color } = paint(layout, chosen, line.index);
  return svg(
    "path",
    {
      d,
      class: `nbt-line${faded ? " nbt-faded" : ""}${extra}`,
      stroke: color,
      "data-run-id": layout.content.runs[line.index].run_id,
    },
    svg("title", {}, runTitle(layout, line.index)),
  );
}

/** "drawing 1,000 of 2,000 runs", above the axes, when the runs drawn are a sample. */
function sampleNote(layout: Layout, shown: Shown): SVGTextElement {
  const count = (n: number): string => n.toLocaleString("en-US");
  const best = layout.metricAxis ? `the best ${BEST_KEPT} by ${layout.metricAxis.title}, ` : "";
  return svg(
    "text",
    { x: 4, y: 12, class: "nbt-sweep-note" },
    `drawing ${count(shown.order.length)} of ${count(shown.sampledFrom)} runs (sample; brushing counts all)`,
    svg(
      "title",
      {},
      `The lines drawn are ${best}every selected run and a fixed sample of the others. ` +
        "Brushing, and the count of runs selected, take in every run.",
    ),
  );
}

/**
 * How wide the parallel chart is in a view `width` wide with `axes` axes, and whether the
 * scatter fits beside it; if not, the scatter goes below, and the chart takes the whole width,
 * so that all its axes show (it scrolls only when even that is too narrow).
 */
function parallelWidth(axes: number, width: number): { chart: number; beside: boolean } {
  const least = Math.max(axes * AXIS_GAP, MIN_WIDTH);
  const room = width - SCATTER_WIDTH - VIEWS_GAP;
  if (room >= least) return { chart: room, beside: true };
  return { chart: Math.max(width - 2, least), beside: false };
}

/**
 * The parallel chart in its box: SVG (axes, brushes and, for a few runs, the lines), over a
 * canvas of the same size for many lines. `themed` is where a canvas reads the theme's colours.
 */
export function parallelChart(
  layout: Layout,
  shown: Shown,
  brushes: Brushes,
  viewWidth: number,
  zones: Zones,
  themed: Element,
): HTMLDivElement {
  const { axes } = layout;
  const { chart: width, beside } = parallelWidth(axes.length, viewWidth);
  const chart = svg("svg", {
    class: "nbt-parallel",
    width,
    height: HEIGHT,
    role: "img",
    "aria-label": "parallel coordinates of the runs",
  });
  const box = h("div", { class: `nbt-scroll nbt-parallel-box${beside ? "" : " nbt-parallel-wide"}` });
  const top = PARALLEL.top + (shown.sampledFrom > 0 ? NOTE_ROOM : 0);
  const height = HEIGHT - top - PARALLEL.bottom;
  const span = width - PARALLEL.left - PARALLEL.right;
  const xs = axes.map((_, i) => PARALLEL.left + (axes.length === 1 ? span / 2 : (i * span) / (axes.length - 1)));
  const y = (position: number): number => top + (1 - position) * height;
  const lines = shown.order
    .map((index) => ({ index, parts: polyline(axes, xs, y, index) }))
    .filter((line) => line.parts.length > 0);
  if (lines.length > SVG_LINES) {
    const palette = themePalette(themed);
    const strokes = lines.map((line) => ({ parts: line.parts, ...paint(layout, shown.chosen, line.index, palette) }));
    box.append(linesCanvas(width, HEIGHT, strokes));
    const parts = lines.map((line) => line.parts);
    const hover = hoverMarks(
      chart,
      (point) => nearestLine(parts, point, HOVER_TOLERANCE),
      (found) => linePath(layout, shown.chosen, lines[found], " nbt-parallel-hover"),
    );
    chart.append(hover);
  } else {
    chart.append(svg("g", { class: "nbt-lines" }, ...lines.map((line) => linePath(layout, shown.chosen, line))));
  }
  if (shown.sampledFrom > 0) chart.append(sampleNote(layout, shown));
  axes.forEach((axis, i) => {
    const at = (point: Point): number => 1 - (point.y - top) / height;
    zones.set(axis.key, (base, from, to) => setBrush(base, axis.key, at(from), at(to)));
    chart.append(verticalAxis(axis, xs[i], top, height, brushes.get(axis.key)));
  });
  box.append(chart);
  return box;
}
