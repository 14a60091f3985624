/**
 * The scatter of a sweep: one param against the metric, a dot per run drawn. A box dragged across
 * it brushes both axes. A few hundred dots are circles, each with its tooltip; more are one path
 * per colour, the dot under the pointer drawn again with its tooltip.
 */

import { type Brushes, setBrush } from "./brush";
import {
  HEIGHT,
  HOVER_TOLERANCE,
  type Layout,
  SCATTER_WIDTH,
  type Shown,
  type Zones,
  paint,
  runTitle,
} from "./sweep-layout";
import { CSS_PALETTE, type Point, hoverMarks, nearestDot, svg } from "./sweep-marks";
import { SVG_LINES } from "./sweep-pick";

const SCATTER = { top: 36, bottom: 34, left: 52, right: 14 };
const DOT_RADIUS = 4;
/** Dots drawn in bulk take one of this many colours along the ramp (one path each). */
const DOT_COLOURS = 48;

interface Dot extends Point {
  index: number;
}

/** A run's dot in the scatter, with its tooltip. */
function dotCircle(layout: Layout, chosen: Set<number>, dot: Dot, extra = ""): SVGCircleElement {
  const { faded, color } = paint(layout, chosen, dot.index);
  return svg(
    "circle",
    {
      cx: dot.x,
      cy: dot.y,
      r: DOT_RADIUS,
      class: `nbt-point${faded ? " nbt-faded" : ""}${extra}`,
      fill: color,
      "data-run-id": layout.content.runs[dot.index].run_id,
    },
    svg("title", {}, runTitle(layout, dot.index)),
  );
}

/**
 * Many dots as one path per colour (DOT_COLOURS along the ramp), in the order of `dots`' first
 * of each colour: a thousand circles are slow to draw again at every move of a brush.
 */
function dotPaths(layout: Layout, chosen: Set<number>, dots: readonly Dot[]): SVGPathElement[] {
  const groups = new Map<string, { faded: boolean; color: string; d: string[] }>();
  const r = DOT_RADIUS;
  for (const dot of dots) {
    const { faded, color } = paint(layout, chosen, dot.index, CSS_PALETTE, DOT_COLOURS);
    const key = `${faded} ${color}`;
    let group = groups.get(key);
    if (!group) {
      group = { faded, color, d: [] };
      groups.set(key, group);
    }
    group.d.push(
      `M${(dot.x - r).toFixed(1)},${dot.y.toFixed(1)}a${r},${r} 0 1,0 ${2 * r},0a${r},${r} 0 1,0 ${-2 * r},0`,
    );
  }
  return Array.from(groups.values(), ({ faded, color, d }) =>
    svg("path", { d: d.join(""), class: `nbt-point${faded ? " nbt-faded" : ""}`, fill: color }),
  );
}

/** `dots` into `chart`: circles or, past SVG_LINES, one path per colour and the hovered circle. */
function appendDots(chart: SVGSVGElement, layout: Layout, shown: Shown, dots: Dot[]): void {
  const layer = svg("g", { class: "nbt-dots" });
  chart.append(layer);
  if (dots.length <= SVG_LINES) {
    layer.append(...dots.map((dot) => dotCircle(layout, shown.chosen, dot)));
    return;
  }
  layer.append(...dotPaths(layout, shown.chosen, dots));
  const hover = hoverMarks(
    chart,
    (point) => nearestDot(dots, point, HOVER_TOLERANCE + DOT_RADIUS),
    (found) => dotCircle(layout, shown.chosen, dots[found], " nbt-sweep-hover"),
  );
  chart.append(hover);
}

/** The scatter of the param chosen against the metric; null without either. */
export function scatterChart(layout: Layout, shown: Shown, brushes: Brushes, zones: Zones): SVGSVGElement | null {
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
  // Runs sharing a category would hide one another: spread them a little, the same way each time.
  const jitter = (index: number): number => (xAxis.scale.kind === "category" ? ((index % 7) - 3) * 2 : 0);
  const dots = shown.order.flatMap((index) => {
    const x = xAxis.scale.position(xAxis.values[index]);
    const y = yAxis.scale.position(yAxis.values[index]);
    return x === null || y === null ? [] : [{ index, x: px(x) + jitter(index), y: py(y) }];
  });
  appendDots(chart, layout, shown, dots);
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
