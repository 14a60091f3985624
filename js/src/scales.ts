/**
 * Axes of the sweep view without the DOM: where a value sits along an axis (0 at the bottom,
 * 1 at the top), the ticks to label, and the colour ramp. Numbers get a linear scale, or a log
 * scale when they are all positive and span three decades or more (learning rates, weight
 * decays); anything else is a category, spaced evenly. A missing value (a param some runs did
 * not set, a metric they did not log) sits at the bottom, marked "–", below the values.
 */

import { scaleLinear, scaleLog, scaleSequential } from "d3-scale";
import { interpolatePlasma } from "d3-scale-chromatic";
import type { CellValue } from "./models";

export interface Tick {
  position: number;
  label: string;
}

export interface AxisScale {
  kind: "linear" | "log" | "category";
  /** Where `value` sits along the axis, 0..1; null for a missing or unplaceable value. */
  position(value: CellValue | undefined): number | null;
  ticks(): Tick[];
}

/** Span (max / min) from which positive numbers get a log scale. */
export const LOG_SPAN = 1000;
/** Where numbers start on an axis that also shows missing values (at 0). */
export const MISSING_GAP = 0.12;
const MISSING_LABEL = "–";
/** About how many ticks a numeric axis gets: it is only as tall as the sweep chart. */
const TICK_COUNT = 5;

function finiteNumber(value: CellValue | undefined): value is number {
  return typeof value === "number" && Number.isFinite(value);
}

/** Short tick text: at most 4 significant digits, exponents for the very large or small. */
export function tickLabel(value: number): string {
  if (value === 0) return "0";
  const magnitude = Math.abs(value);
  if (magnitude >= 1e5 || magnitude < 1e-3) return value.toExponential(1).replace("e+", "e");
  return String(Number(value.toPrecision(4)));
}

/** About `count` round numbers covering [low, high], 1, 2 or 5 times a power of ten apart (d3). */
export function niceTicks(low: number, high: number, count = TICK_COUNT): number[] {
  return scaleLinear().domain([low, high]).ticks(count);
}

/** Categories in a stable order: missing first (at the bottom), numbers by value, then text. */
function categoryOrder(values: ReadonlyArray<CellValue | undefined>): string[] {
  const seen = new Map<string, CellValue>();
  for (const value of values) seen.set(categoryKey(value), value ?? null);
  return Array.from(seen.entries())
    .sort(([ka, a], [kb, b]) => {
      const rank = (v: CellValue): number => (v === null ? 0 : typeof v === "number" ? 1 : 2);
      if (rank(a) !== rank(b)) return rank(a) - rank(b);
      if (typeof a === "number" && typeof b === "number") return a - b;
      return ka < kb ? -1 : ka > kb ? 1 : 0;
    })
    .map(([key]) => key);
}

function categoryKey(value: CellValue | undefined): string {
  return value === null || value === undefined ? MISSING_LABEL : String(value);
}

function categoryScale(values: ReadonlyArray<CellValue | undefined>): AxisScale {
  const order = categoryOrder(values);
  const at = new Map(order.map((key, i) => [key, order.length === 1 ? 0.5 : i / (order.length - 1)]));
  return {
    kind: "category",
    position: (value) => at.get(categoryKey(value)) ?? null,
    ticks: () => order.map((key) => ({ position: at.get(key) ?? 0, label: key })),
  };
}

function linearScale(low: number, high: number): AxisScale {
  const scale = scaleLinear().domain([low, high]); // (a constant lands at 0.5)
  return {
    kind: "linear",
    position: (value) => (finiteNumber(value) ? scale(value) : null),
    ticks: () => niceTicks(low, high).map((v) => ({ position: scale(v), label: tickLabel(v) })),
  };
}

function logScale(low: number, high: number): AxisScale {
  const scale = scaleLog().domain([low, high]);
  // d3's log ticks include 2×, 3×, … 9× each power of ten; its tick format leaves those it has
  // no room for unlabelled, and an axis this short has room for the powers of ten only.
  const labelled = scale.tickFormat(TICK_COUNT);
  return {
    kind: "log",
    position: (value) => (finiteNumber(value) && value > 0 ? scale(value) : null),
    ticks: () =>
      scale
        .ticks()
        .filter((v) => labelled(v) !== "")
        .map((v) => ({ position: scale(v), label: tickLabel(v) })),
  };
}

/** `scale` squeezed above a slot for missing values at 0. */
function withMissing(scale: AxisScale): AxisScale {
  const lift = (position: number): number => MISSING_GAP + (1 - MISSING_GAP) * position;
  return {
    kind: scale.kind,
    position: (value) => {
      if (value === null || value === undefined) return 0;
      const position = scale.position(value);
      return position === null ? null : lift(position);
    },
    ticks: () => [
      { position: 0, label: MISSING_LABEL },
      ...scale.ticks().map((tick) => ({ ...tick, position: lift(tick.position) })),
    ],
  };
}

/**
 * The scale of an axis over `values`: numeric when `numeric` and every value present is a
 * finite number, else categorical.
 */
export function axisScale(values: ReadonlyArray<CellValue | undefined>, numeric: boolean): AxisScale {
  const present = values.filter((v) => v !== null && v !== undefined);
  if (!numeric || present.length === 0 || !present.every(finiteNumber)) return categoryScale(values);
  const numbers = present as number[];
  const low = Math.min(...numbers);
  const high = Math.max(...numbers);
  const scale = low > 0 && high / low >= LOG_SPAN ? logScale(low, high) : linearScale(low, high);
  return present.length < values.length ? withMissing(scale) : scale;
}

/** Where Matplotlib's "plasma" is cut, before its palest yellow, so lines stay visible on white. */
const PLASMA_END = 0.8;
const ramp = scaleSequential((t: number) => interpolatePlasma(t * PLASMA_END))
  .clamp(true)
  .unknown(interpolatePlasma(0));

/** The ramp's colour at `t` in 0..1 (clamped; NaN takes the colour of 0). */
export function rampColor(t: number): string {
  return ramp(t);
}
