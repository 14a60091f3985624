/**
 * Curve data without the DOM: decoding the binary `_data` trait, merging live patches into it,
 * series labels, and TensorBoard-style smoothing. Kept apart from chart.ts so tests need not load Vega.
 */

import type { BinaryTrait, CurveTraits, SeriesInfo } from "./models";

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

/** The number of points of `series`, checked against the bytes of `_data` that hold them. */
function checkedTotal(series: readonly SeriesInfo[], view: DataView): number {
  const total = series.reduce((sum, s) => sum + s.count, 0);
  const expected = total * (X_BYTES + Y_BYTES);
  if (view.byteLength !== expected) {
    throw new Error(
      `_data has ${view.byteLength} bytes, but ${series.length} series of ${total} points in all ` +
        `need ${expected} (8 per x, 4 per y)`,
    );
  }
  return total;
}

/**
 * Split `_data` into series: all x values (float64, little-endian) of every series in order,
 * then all y values (float32, little-endian). Read through a DataView because the buffer the
 * widget receives may start at an offset that typed arrays could not view (alignment).
 */
export function decodeSeries(series: readonly SeriesInfo[], payload: BinaryTrait): DecodedSeries[] {
  const view = asDataView(payload);
  const total = checkedTotal(series, view);
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

/** One series changed by a live refresh: its first `keep` points stay, `added` points follow. */
export interface SeriesChange {
  index: number;
  keep: number;
  added: number;
}

/**
 * Python's custom message for a live refresh (see nbtrack/widgets/curves.py): the changes that
 * turn the state numbered `base` into the one numbered `version`. Its one buffer holds the added
 * points of every change in order, laid out as `_data`.
 */
export interface CurvePatch {
  type: "curves_patch";
  base: number;
  version: number;
  changes: SeriesChange[];
}

export function isCurvePatch(content: unknown): content is CurvePatch {
  return typeof content === "object" && content !== null && (content as { type?: unknown }).type === "curves_patch";
}

/** The `_series` and `_data` of a chart. */
export interface CurveState {
  series: SeriesInfo[];
  data: DataView;
}

function checkChanges(series: readonly SeriesInfo[], changes: readonly SeriesChange[]): Map<number, SeriesChange> {
  const byIndex = new Map<number, SeriesChange>();
  let previous = -1;
  for (const change of changes) {
    const { index, keep, added } = change;
    if (!Number.isInteger(index) || index <= previous || index >= series.length) {
      throw new Error(
        `the patch changes series ${index}, but there are ${series.length} and changes come in the ` +
          `order of the series, each once`,
      );
    }
    previous = index;
    if (!Number.isInteger(keep) || keep < 0 || keep > series[index].count || !Number.isInteger(added) || added < 0) {
      throw new Error(
        `the patch keeps ${keep} points of series ${index} and adds ${added}, but that series has ` +
          `${series[index].count} points`,
      );
    }
    byIndex.set(index, change);
  }
  return byIndex;
}

/** The bytes of a DataView, as a Uint8Array over the same memory. */
function bytesOf(view: DataView): Uint8Array {
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}

/**
 * The state after a live refresh: each changed series keeps its first `keep` points and gets
 * the next `added` points of `added` (laid out as `_data`); the other series stay as they are.
 * Throws when the patch does not fit the state (other series, or other sizes).
 */
export function applyPatch(
  series: readonly SeriesInfo[],
  payload: BinaryTrait,
  changes: readonly SeriesChange[],
  added: BinaryTrait,
): CurveState {
  const old = asDataView(payload);
  const oldTotal = checkedTotal(series, old);
  const byIndex = checkChanges(series, changes);
  const extra = asDataView(added);
  const addedTotal = changes.reduce((sum, change) => sum + change.added, 0);
  if (extra.byteLength !== addedTotal * (X_BYTES + Y_BYTES)) {
    throw new Error(
      `the patch has ${extra.byteLength} bytes, but its ${addedTotal} added points need ` +
        `${addedTotal * (X_BYTES + Y_BYTES)} (8 per x, 4 per y)`,
    );
  }
  const next = series.map((info, i) => {
    const change = byIndex.get(i);
    return change ? { ...info, count: change.keep + change.added } : info;
  });
  const total = next.reduce((sum, s) => sum + s.count, 0);
  const out = new Uint8Array(total * (X_BYTES + Y_BYTES));
  // Points first..first+count of `source` (laid out as `_data`, `size` points in all) to `at`.
  const copy = (source: Uint8Array, size: number, first: number, count: number, at: number): void => {
    out.set(source.subarray(first * X_BYTES, (first + count) * X_BYTES), at * X_BYTES);
    const ys = size * X_BYTES;
    out.set(source.subarray(ys + first * Y_BYTES, ys + (first + count) * Y_BYTES), total * X_BYTES + at * Y_BYTES);
  };
  const [kept, fresh] = [bytesOf(old), bytesOf(extra)];
  let first = 0;
  let firstAdded = 0;
  let at = 0;
  series.forEach((info, i) => {
    const change = byIndex.get(i);
    const keep = change ? change.keep : info.count;
    copy(kept, oldTotal, first, keep, at);
    if (change) {
      copy(fresh, addedTotal, firstAdded, change.added, at + keep);
      firstAdded += change.added;
    }
    first += info.count;
    at += next[i].count;
  });
  return { series: next, data: new DataView(out.buffer) };
}

/** A chart's curve state and the number Python gave it (`_curves_version`). */
export interface VersionedCurves extends CurveState {
  version: number;
}

/** What LiveCurves reads of a widget model: its curve traits. */
export interface CurveModel {
  get<K extends keyof CurveTraits>(name: K): CurveTraits[K];
}

/**
 * The curves every view of a model draws: the model's `_series` and `_data`, or the newer state
 * merged from Python's live patches. The merge is kept here, beside the model, not set on it:
 * a trait set in the browser goes back to Python with the next change of any other trait, so a
 * toolbar click after a live run would upload every merged point. Python keeps its own copy.
 */
export class LiveCurves {
  private merged = new WeakMap<CurveModel, VersionedCurves>();
  private views = new WeakMap<CurveModel, Set<() => void>>();

  /** The newest state: the merged one while it is ahead of the model's traits. */
  current(model: CurveModel): VersionedCurves {
    const version = model.get("_curves_version") ?? 0;
    const merged = this.merged.get(model);
    if (merged && merged.version > version) return merged;
    return { series: model.get("_series") ?? [], data: asDataView(model.get("_data")), version };
  }

  /**
   * Merge `patch` (its points in `added`) and tell the model's views. "stale" when the state
   * is not the patch's base (messages were missed: ask Python for the full state); a patch
   * already merged (every view hears each message) changes nothing. Throws when it does not fit.
   */
  merge(model: CurveModel, patch: CurvePatch, added: BinaryTrait): "merged" | "stale" {
    const state = this.current(model);
    if (state.version >= patch.version) return "merged";
    if (state.version !== patch.base) return "stale";
    const next = applyPatch(state.series, state.data, patch.changes, added);
    this.merged.set(model, { ...next, version: patch.version });
    for (const view of this.views.get(model) ?? []) view();
    return "merged";
  }

  /** Call `view` after each merge into `model`'s state; returns what stops it. */
  listen(model: CurveModel, view: () => void): () => void {
    const views = this.views.get(model) ?? new Set<() => void>();
    views.add(view);
    this.views.set(model, views);
    return () => views.delete(view);
  }
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
 * A series with no points (none in a zoomed range) gets one row of NaN, drawn nowhere, so that
 * it keeps its colour and its place in the legend.
 */
export function curveRows(decoded: readonly DecodedSeries[], weight: number): CurvePoint[] {
  const rows: CurvePoint[] = [];
  for (const { info, label, x, y } of decoded) {
    if (x.length === 0) {
      rows.push({
        series: label,
        run_id: info.run_id,
        key: info.key,
        x: Number.NaN,
        y: Number.NaN,
        smooth: Number.NaN,
      });
      continue;
    }
    const smooth = emaSmooth(y, weight);
    for (let j = 0; j < x.length; j++) {
      rows.push({ series: label, run_id: info.run_id, key: info.key, x: x[j], y: y[j], smooth: smooth[j] });
    }
  }
  return rows;
}

/** About how many points the hover layer gets, whatever the number drawn (see charts.py). */
export const HOVER_POINTS = 2000;

/** Every k-th row of each series (and its last), k chosen so that about `budget` rows remain. */
export function hoverRows(rows: readonly CurvePoint[], budget = HOVER_POINTS): CurvePoint[] {
  const stride = Math.max(1, Math.ceil(rows.length / budget));
  if (stride === 1) return rows.map((row) => ({ ...row }));
  return rows.filter((row, i) => i % stride === 0 || rows[i + 1]?.series !== row.series).map((row) => ({ ...row }));
}
