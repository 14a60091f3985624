/**
 * Brushing without the DOM. A brush is a range along one axis, in the axis' own 0..1
 * coordinates, so the parallel-coordinates chart and the scatter (whose x and y are two of
 * the same axes) share one set of brushes and always agree. A run is selected when it lies
 * inside every brush.
 */

import type { CellValue } from "./models";
import type { AxisScale } from "./scales";

/** Axis key -> [low, high], 0..1, low < high. */
export type Brushes = ReadonlyMap<string, readonly [number, number]>;

export interface BrushAxis {
  key: string;
  scale: AxisScale;
  values: ReadonlyArray<CellValue | undefined>;
}

/** Ranges thinner than this are a click, not a drag: they clear the axis' brush. */
export const MIN_BRUSH = 0.01;

/**
 * `brushes` with axis `key` brushed from `a` to `b` (either order; cleared when too thin). An
 * end dragged to within MIN_BRUSH of the axis' end snaps to it, so that the values drawn at
 * the very end are inside.
 */
export function setBrush(brushes: Brushes, key: string, a: number, b: number): Map<string, readonly [number, number]> {
  const next = new Map(brushes);
  const snap = (t: number): number => (t < MIN_BRUSH ? 0 : t > 1 - MIN_BRUSH ? 1 : t);
  const low = snap(Math.min(a, b));
  const high = snap(Math.max(a, b));
  if (high - low < MIN_BRUSH) next.delete(key);
  else next.set(key, [low, high]);
  return next;
}

/**
 * The indices of the runs inside every brush, in order; none when nothing is brushed. A
 * brush on an axis that is not shown (any more) is ignored; a run missing a brushed value
 * is inside only when the brush covers the axis' slot for missing values.
 */
export function brushedRuns(axes: readonly BrushAxis[], brushes: Brushes, count: number): number[] {
  const active = axes.filter((axis) => brushes.has(axis.key));
  if (active.length === 0) return [];
  const inside: number[] = [];
  for (let i = 0; i < count; i++) {
    const all = active.every((axis) => {
      const [low, high] = brushes.get(axis.key) as readonly [number, number];
      const position = axis.scale.position(axis.values[i]);
      return position !== null && position >= low - 1e-9 && position <= high + 1e-9;
    });
    if (all) inside.push(i);
  }
  return inside;
}

/** Whether two id lists hold the same ids (in any order). */
export function sameIds(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  const set = new Set(a);
  return b.every((id) => set.has(id));
}

/** Keyboard brushing: how far an arrow key moves a brush (or, with Shift, its lower end). */
export const KEY_STEP = 0.05;
/** The height of a brush started from the keyboard (at the top of the axis). */
export const KEY_SPAN = 0.2;

/**
 * The brush a key leaves on an axis: ArrowUp and ArrowDown move it (the first press starts one
 * at the top, KEY_SPAN tall); with Shift they move its lower end only, to grow or shrink it;
 * Escape, Delete and Backspace clear it (null). Other keys: undefined.
 */
export function keyedBrush(
  current: readonly [number, number] | undefined,
  key: string,
  shift: boolean,
): readonly [number, number] | null | undefined {
  if (key === "Escape" || key === "Delete" || key === "Backspace") return null;
  if (key !== "ArrowUp" && key !== "ArrowDown") return undefined;
  if (current === undefined) return [1 - KEY_SPAN, 1];
  const step = key === "ArrowUp" ? KEY_STEP : -KEY_STEP;
  const [low, high] = current;
  if (shift) return [Math.min(Math.max(low + step, 0), high - 2 * MIN_BRUSH), high];
  const moved = Math.min(Math.max(step, -low), 1 - high);
  return [low + moved, high + moved];
}
