/**
 * How the sweep's charts draw runs: an SVG element each, or, for many runs, in bulk (the lines on
 * a canvas as big as the chart's SVG, at the screen's pixel density: a thousand SVG paths make
 * every move of a brush slow). A run drawn in bulk has no element to hover: the one under the
 * pointer (see nearestLine, nearestDot) is drawn again in SVG, with its tooltip.
 */

import { TRANSIENT } from "./snapshot";

const SVG_NS = "http://www.w3.org/2000/svg";

/** An SVG element with attributes and children. */
export function svg<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | number> = {},
  ...children: Array<SVGElement | string>
): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attrs)) el.setAttribute(name, String(value));
  el.append(...children);
  return el;
}

export interface Point {
  x: number;
  y: number;
}

/** A run's line: runs of points, broken where the run has no value on an axis. */
export type Polyline = Point[][];

export interface Stroke {
  parts: Polyline;
  color: string;
  faded: boolean;
}

/** The colours that lines take from the theme (CSS colours, or CSS variables for SVG). */
export interface Palette {
  faded: string;
  missing: string;
}

/** The palette for SVG, which reads the theme's variables itself. */
export const CSS_PALETTE: Palette = { faded: "var(--nbt-grid)", missing: "var(--nbt-muted)" };

/** Thinner and fainter than an SVG line: many more of them overlap. */
const LINE_WIDTH = 1;
const ALPHA = 0.55;
const FADED_ALPHA = 0.35;

/**
 * The palette as the theme resolves it on `el`: a canvas cannot read CSS variables (the
 * fallbacks are those of styles.css, for an element not in the page yet).
 */
export function themePalette(el: Element): Palette {
  const style = getComputedStyle(el);
  const read = (name: string, fallback: string): string => style.getPropertyValue(name).trim() || fallback;
  return { faded: read("--nbt-grid", "rgba(128, 128, 128, 0.25)"), missing: read("--nbt-muted", "#808080") };
}

/** A canvas of `width` x `height` CSS pixels with `strokes` drawn on it, in order. */
export function linesCanvas(width: number, height: number, strokes: Iterable<Stroke>): HTMLCanvasElement {
  const ratio = window.devicePixelRatio || 1;
  const canvas = document.createElement("canvas");
  canvas.className = "nbt-parallel-lines";
  canvas.setAttribute("aria-hidden", "true");
  canvas.width = Math.round(width * ratio);
  canvas.height = Math.round(height * ratio);
  canvas.style.width = `${width}px`;
  canvas.style.height = `${height}px`;
  const context = canvas.getContext("2d");
  if (!context) return canvas;
  context.scale(ratio, ratio);
  context.lineWidth = LINE_WIDTH;
  context.lineJoin = "round";
  for (const { parts, color, faded } of strokes) {
    context.beginPath();
    for (const [first, ...rest] of parts) {
      context.moveTo(first.x, first.y);
      for (const { x, y } of rest) context.lineTo(x, y);
    }
    context.strokeStyle = color;
    context.globalAlpha = faded ? FADED_ALPHA : ALPHA;
    context.stroke();
  }
  return canvas;
}

/** Where `line` crosses the vertical at `x`, or null where it is not drawn. */
function crossing(line: Polyline, x: number): number | null {
  for (const part of line) {
    for (let i = 1; i < part.length; i++) {
      const [a, b] = [part[i - 1], part[i]];
      if (x >= a.x && x <= b.x) return b.x === a.x ? a.y : a.y + ((x - a.x) / (b.x - a.x)) * (b.y - a.y);
    }
  }
  return null;
}

/**
 * Which of `lines` passes nearest to `point`, at most `tolerance` pixels above or below it
 * (the last drawn, on top, wins a tie); null when none does.
 */
export function nearestLine(lines: readonly Polyline[], point: Point, tolerance: number): number | null {
  let best: number | null = null;
  let bestDistance = tolerance;
  lines.forEach((line, i) => {
    const y = crossing(line, point.x);
    const distance = y === null ? Number.POSITIVE_INFINITY : Math.abs(y - point.y);
    if (distance <= bestDistance) {
      best = i;
      bestDistance = distance;
    }
  });
  return best;
}

/** Which of `dots` is nearest to `point`, within `radius` (the last drawn wins a tie); null if none. */
export function nearestDot(dots: readonly Point[], point: Point, radius: number): number | null {
  let best: number | null = null;
  let bestDistance = radius;
  dots.forEach((dot, i) => {
    const distance = Math.hypot(dot.x - point.x, dot.y - point.y);
    if (distance <= bestDistance) {
      best = i;
      bestDistance = distance;
    }
  });
  return best;
}

/**
 * For runs drawn in bulk (no element each), a layer for `chart`: the run that `find` places
 * under the pointer is drawn into it by `mark`, highlighted and with its tooltip, and stays
 * while the pointer is on it. (Marked transient: the saved notebook's image leaves it out.)
 */
export function hoverMarks(
  chart: SVGSVGElement,
  find: (point: Point) => number | null,
  mark: (found: number) => SVGElement,
): SVGGElement {
  const layer = svg("g", { class: "nbt-sweep-hover-layer", [TRANSIENT]: "" });
  let hovered: number | null = null;
  const show = (next: number | null): void => {
    if (next === hovered) return;
    hovered = next;
    layer.replaceChildren(...(next === null ? [] : [mark(next)]));
  };
  chart.addEventListener("pointermove", (event) => {
    if (event.target instanceof Node && layer.contains(event.target)) return;
    const box = chart.getBoundingClientRect();
    show(find({ x: event.clientX - box.left, y: event.clientY - box.top }));
  });
  chart.addEventListener("pointerleave", () => show(null));
  return layer;
}
