/**
 * Zooming a curve chart's x axis, without the DOM: the range a drag, a wheel turn, a pan or a
 * key leaves shown. A range is [low, high] in the axis' own units (steps, or seconds); null
 * shows all of it. Python answers a range with the points inside it (x_range).
 */

export type XRange = readonly [number, number];

/** A drag narrower than this (pixels) is a click, not a range. */
export const MIN_DRAG_PX = 5;
/** How much one pixel of wheel scroll zooms: a notch (about 100 px) zooms about 1.16 times. */
export const WHEEL_ZOOM_PER_PX = 0.0015;
/** How much + and - zoom, and how far the arrow keys pan (a share of the range shown). */
export const KEY_ZOOM = 1.5;
export const KEY_PAN = 0.2;
/** A range is kept at least this many times its middle's float precision wide. */
const MIN_SPAN_ULPS = 1e3;

/** The x shown at `px` pixels from the left of a plot `width` pixels wide showing `range`. */
export function xAt(range: XRange, px: number, width: number): number {
  return range[0] + ((range[1] - range[0]) * px) / Math.max(width, 1);
}

/** `[low, high]` widened around its middle when too narrow for the numbers to tell apart. */
function wideEnough(low: number, high: number): XRange {
  const middle = (low + high) / 2;
  const least = Math.max(Math.abs(middle), 1) * Number.EPSILON * MIN_SPAN_ULPS;
  return high - low >= least ? [low, high] : [middle - least / 2, middle + least / 2];
}

/**
 * What a range shows once it reaches past `home` (the whole curves, as drawn unzoomed): null
 * (all of it) when it covers home; else the range itself.
 */
export function withinHome(range: XRange, home: XRange | null): XRange | null {
  if (home !== null && range[0] <= home[0] && range[1] >= home[1]) return null;
  return range;
}

/** The range dragged across from pixel `a` to pixel `b` of a plot `width` wide; null for a click. */
export function dragRange(shown: XRange, a: number, b: number, width: number): XRange | null {
  if (Math.abs(b - a) < MIN_DRAG_PX) return null;
  const [left, right] = [Math.max(0, Math.min(a, b)), Math.min(width, Math.max(a, b))];
  return wideEnough(xAt(shown, left, width), xAt(shown, right, width));
}

/** `shown` zoomed by `factor` (below 1: in) keeping `center` where it is on screen. */
export function zoomAround(shown: XRange, center: number, factor: number): XRange {
  return wideEnough(center - (center - shown[0]) * factor, center + (shown[1] - center) * factor);
}

/** `shown` moved by `fraction` of its width (positive: to the right, showing larger x). */
export function panBy(shown: XRange, fraction: number): XRange {
  const delta = (shown[1] - shown[0]) * fraction;
  return [shown[0] + delta, shown[1] + delta];
}

/** `shown` after a wheel turn of `deltaY` pixels with the pointer at pixel `px` (down: out). */
export function wheelRange(shown: XRange, px: number, width: number, deltaY: number): XRange {
  return zoomAround(shown, xAt(shown, px, width), Math.exp(deltaY * WHEEL_ZOOM_PER_PX));
}

/**
 * The range a key leaves: + and - zoom around the middle, ArrowLeft and ArrowRight pan,
 * 0 and Escape show everything (null). Other keys: undefined.
 */
export function keyRange(shown: XRange, key: string): XRange | null | undefined {
  const middle = (shown[0] + shown[1]) / 2;
  switch (key) {
    case "+":
    case "=":
      return zoomAround(shown, middle, 1 / KEY_ZOOM);
    case "-":
      return zoomAround(shown, middle, KEY_ZOOM);
    case "ArrowLeft":
      return panBy(shown, -KEY_PAN);
    case "ArrowRight":
      return panBy(shown, KEY_PAN);
    case "0":
    case "Escape":
      return null;
    default:
      return undefined;
  }
}

/** Whether two ranges (or nulls) are the same. */
export function sameRange(a: XRange | null | undefined, b: XRange | null | undefined): boolean {
  if (!a || !b) return !a && !b;
  return a[0] === b[0] && a[1] === b[1];
}

/** A range as the model holds it: `[low, high]`, anything else (null, empty) meaning none. */
export function asRange(value: unknown): XRange | null {
  if (!Array.isArray(value) || value.length !== 2) return null;
  const [low, high] = value.map(Number);
  return Number.isFinite(low) && Number.isFinite(high) && low < high ? [low, high] : null;
}
