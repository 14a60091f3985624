/**
 * Curve data without the DOM: decoding the binary `_data` trait, series labels, and
 * TensorBoard-style smoothing. Kept apart from chart.ts so tests need not load Vega.
 */

import type { BinaryTrait, SeriesInfo } from "./models";

/** One row of the chart's `points` dataset (the fields the Python-built spec reads). */
export interface CurvePoint {
  series: string;
  run_id: string;
  key: string;
  x: number;
  y: number;
  smooth: number;
}

export interface DecodedSeries {
  info: SeriesInfo;
  label: string;
  x: Float64Array;
  y: Float32Array;
}

const X_BYTES = 8; // float64
const Y_BYTES = 4; // float32

/** Any binary form the trait may take, as a DataView over exactly its bytes. */
export function asDataView(payload: BinaryTrait): DataView {
  if (payload instanceof DataView) return payload;
  if (payload instanceof ArrayBuffer) return new DataView(payload);
  if (payload && ArrayBuffer.isView(payload)) {
    return new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  }
  return new DataView(new ArrayBuffer(0));
}

/**
 * Legend labels: the run's name, plus " · key" when the series have more than one key.
 * Two runs with one name get a short run id too, or their curves would share a colour.
 */
export function seriesLabels(series: readonly SeriesInfo[]): string[] {
  const manyKeys = new Set(series.map((s) => s.key)).size > 1;
  const runsByName = new Map<string, Set<string>>();
  for (const s of series) {
    const runs = runsByName.get(s.name) ?? new Set<string>();
    runs.add(s.run_id);
    runsByName.set(s.name, runs);
  }
  return series.map((s) => {
    const shared = (runsByName.get(s.name)?.size ?? 0) > 1;
    const run = s.name === "" ? s.run_id : shared ? `${s.name} (${s.run_id.slice(0, 8)})` : s.name;
    return manyKeys ? `${run} · ${s.key}` : run;
  });
}

/**
 * Split `_data` into series: all x values (float64, little-endian) of every series in order,
 * then all y values (float32, little-endian). Read through a DataView because the buffer the
 * widget receives may start at an offset that typed arrays could not view (alignment).
 */
export function decodeSeries(series: readonly SeriesInfo[], payload: BinaryTrait): DecodedSeries[] {
  const view = asDataView(payload);
  const total = series.reduce((sum, s) => sum + s.count, 0);
  const expected = total * (X_BYTES + Y_BYTES);
  if (view.byteLength !== expected) {
    throw new Error(
      `_data has ${view.byteLength} bytes, but ${series.length} series of ${total} points in all ` +
        `need ${expected} (8 per x, 4 per y)`,
    );
  }
  const labels = seriesLabels(series);
  const yStart = total * X_BYTES;
  let first = 0;
  return series.map((info, index) => {
    const x = new Float64Array(info.count);
    const y = new Float32Array(info.count);
    for (let j = 0; j < info.count; j++) {
      x[j] = view.getFloat64((first + j) * X_BYTES, true);
      y[j] = view.getFloat32(yStart + (first + j) * Y_BYTES, true);
    }
    first += info.count;
    return { info, label: labels[index], x, y };
  });
}

/** Weights at or above 1 would never move off the first point (and divide by zero). */
export const MAX_SMOOTHING = 0.999;

/**
 * TensorBoard's debiased exponential moving average: last_i = last_{i-1}·w + (1−w)·y_i and
 * smoothed_i = last_i / (1 − w^(i+1)). Weight 0 returns the values unchanged. As in
 * TensorBoard, a non-finite value (NaN, ±∞) passes through without entering the average, so
 * one bad point does not blank the rest of the curve; the debias exponent counts finite points.
 */
export function emaSmooth(values: ArrayLike<number>, weight: number): Float64Array {
  const out = Float64Array.from(values);
  const w = Math.min(Math.max(weight, 0), MAX_SMOOTHING);
  if (!(w > 0)) return out;
  let last = 0;
  let seen = 0;
  for (let i = 0; i < out.length; i++) {
    const value = out[i];
    if (!Number.isFinite(value)) continue;
    last = last * w + (1 - w) * value;
    seen += 1;
    out[i] = last / (1 - w ** seen);
  }
  return out;
}

/**
 * The chart's rows, smoothed per series with `weight`. Fresh objects on every call: Vega tags
 * the objects it ingests, so handing it the previous ones again would mix up its tuple ids.
 */
export function curveRows(decoded: readonly DecodedSeries[], weight: number): CurvePoint[] {
  const rows: CurvePoint[] = [];
  for (const { info, label, x, y } of decoded) {
    const smooth = emaSmooth(y, weight);
    for (let j = 0; j < x.length; j++) {
      rows.push({ series: label, run_id: info.run_id, key: info.key, x: x[j], y: y[j], smooth: smooth[j] });
    }
  }
  return rows;
}
