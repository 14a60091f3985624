import { describe, expect, it } from "vitest";
import type { SeriesInfo } from "../src/models";
import { MAX_SMOOTHING, curveRows, decodeSeries, emaSmooth, hoverRows, seriesLabels } from "../src/series";

/** The Python side's encoding: all x as float64 LE, then all y as float32 LE. */
function encode(xs: number[], ys: number[], padding = 0): DataView {
  const buffer = new ArrayBuffer(padding + xs.length * 12);
  const view = new DataView(buffer, padding);
  xs.forEach((x, i) => view.setFloat64(i * 8, x, true));
  ys.forEach((y, i) => view.setFloat32(xs.length * 8 + i * 4, y, true));
  return view;
}

/** The formula of the brief, literally: last_i = last_{i-1}*w + (1-w)*y_i; s_i = last_i/(1-w^(i+1)). */
function reference(values: number[], w: number): number[] {
  let last = 0;
  return values.map((y, i) => {
    last = last * w + (1 - w) * y;
    return last / (1 - w ** (i + 1));
  });
}

const series = (run_id: string, name: string, key: string, count: number): SeriesInfo => ({
  run_id,
  name,
  key,
  count,
});

describe("emaSmooth", () => {
  it("returns the values unchanged for weight 0", () => {
    expect(Array.from(emaSmooth([3, 1, 4, 1, 5], 0))).toEqual([3, 1, 4, 1, 5]);
  });

  it("matches TensorBoard's debiased EMA", () => {
    const values = [1, 2, 3, 10, 0.5, -2];
    for (const w of [0.3, 0.6, 0.9, 0.99]) {
      const smoothed = Array.from(emaSmooth(values, w));
      reference(values, w).forEach((expected, i) => expect(smoothed[i]).toBeCloseTo(expected, 12));
    }
  });

  it("starts at the first value (debiasing) and keeps a constant series constant", () => {
    expect(emaSmooth([7], 0.9)[0]).toBeCloseTo(7, 12);
    for (const v of emaSmooth([2, 2, 2, 2], 0.95)) expect(v).toBeCloseTo(2, 12);
  });

  it("passes non-finite values through without poisoning later points", () => {
    const smoothed = emaSmooth([1, Number.NaN, 3], 0.5);
    expect(smoothed[1]).toBeNaN();
    expect(smoothed[2]).toBeCloseTo(reference([1, 3], 0.5)[1], 12);
  });

  it("clamps weights outside [0, 1)", () => {
    expect(Array.from(emaSmooth([1, 2], -1))).toEqual([1, 2]);
    const clamped = Array.from(emaSmooth([1, 2, 3], 1));
    expect(clamped).toEqual(Array.from(emaSmooth([1, 2, 3], MAX_SMOOTHING)));
    for (const v of clamped) expect(Number.isFinite(v)).toBe(true);
  });

  it("handles an empty series", () => {
    expect(emaSmooth([], 0.5).length).toBe(0);
  });
});

describe("decodeSeries", () => {
  const info = [series("r1", "alpha", "loss", 3), series("r2", "beta", "loss", 2)];
  const xs = [0, 1, 2, 10, 20];
  const ys = [0.5, 0.25, 0.125, 4, 8];

  it("splits x (float64) and y (float32) per series in order", () => {
    const decoded = decodeSeries(info, encode(xs, ys));
    expect(decoded.map((d) => d.label)).toEqual(["alpha", "beta"]);
    expect(Array.from(decoded[0].x)).toEqual([0, 1, 2]);
    expect(Array.from(decoded[0].y)).toEqual([0.5, 0.25, 0.125]);
    expect(Array.from(decoded[1].x)).toEqual([10, 20]);
    expect(Array.from(decoded[1].y)).toEqual([4, 8]);
  });

  it("keeps float64 precision for x (epoch seconds) and rounds y to float32", () => {
    const decoded = decodeSeries([series("r", "n", "k", 1)], encode([1700000000.123456], [0.1]));
    expect(decoded[0].x[0]).toBe(1700000000.123456);
    expect(decoded[0].y[0]).toBe(Math.fround(0.1));
  });

  it("reads a DataView that starts at an unaligned offset", () => {
    const decoded = decodeSeries(info, encode(xs, ys, 3));
    expect(Array.from(decoded[1].y)).toEqual([4, 8]);
  });

  it("accepts an ArrayBuffer or a typed array", () => {
    const view = encode(xs, ys);
    const bytes = new Uint8Array(view.buffer);
    expect(decodeSeries(info, bytes)[1].x[1]).toBe(20);
    expect(decodeSeries(info, view.buffer as ArrayBuffer)[1].x[1]).toBe(20);
  });

  it("takes no series and no bytes (or null) as empty", () => {
    expect(decodeSeries([], new DataView(new ArrayBuffer(0)))).toEqual([]);
    expect(decodeSeries([], null)).toEqual([]);
  });

  it("throws when the byte count does not match the counts", () => {
    expect(() => decodeSeries(info, encode([1, 2], [1, 2]))).toThrow(/need 60/);
  });
});

describe("seriesLabels", () => {
  it("uses the run name alone when all series share one key", () => {
    expect(seriesLabels([series("a", "run-a", "loss", 1), series("b", "run-b", "loss", 1)])).toEqual([
      "run-a",
      "run-b",
    ]);
  });

  it("adds the key when there are several keys", () => {
    expect(seriesLabels([series("a", "run-a", "loss", 1), series("a", "run-a", "acc", 1)])).toEqual([
      "run-a · loss",
      "run-a · acc",
    ]);
  });

  it("tells apart two runs with the same name, and falls back to the run id", () => {
    expect(
      seriesLabels([
        series("0123456789", "same", "k", 1),
        series("abcdefghij", "same", "k", 1),
        series("id", "", "k", 1),
      ]),
    ).toEqual(["same (01234567)", "same (abcdefgh)", "id"]);
  });
});

describe("curveRows", () => {
  it("builds the spec's rows with per-series smoothing", () => {
    const info = [series("r1", "a", "loss", 2), series("r2", "b", "loss", 2)];
    const rows = curveRows(decodeSeries(info, encode([0, 1, 0, 1], [1, 3, 10, 10])), 0.5);
    expect(rows).toHaveLength(4);
    expect(rows[0]).toEqual({ series: "a", run_id: "r1", key: "loss", x: 0, y: 1, smooth: 1 });
    expect(rows[1].smooth).toBeCloseTo(reference([1, 3], 0.5)[1], 12);
    // the second series starts its own average: no carry-over from the first
    expect(rows[2].smooth).toBeCloseTo(10, 12);
  });

  it("gives a series with no points (none in a zoomed range) one row drawn nowhere", () => {
    const info = [series("r1", "a", "loss", 0), series("r2", "b", "loss", 1)];
    const rows = curveRows(decodeSeries(info, encode([5], [2])), 0);
    expect(rows.map((row) => row.series)).toEqual(["a", "b"]);
    expect([rows[0].x, rows[0].y, rows[0].smooth].every(Number.isNaN)).toBe(true);
  });

  it("returns new objects on every call", () => {
    const decoded = decodeSeries([series("r", "a", "k", 1)], encode([0], [1]));
    expect(curveRows(decoded, 0)[0]).not.toBe(curveRows(decoded, 0)[0]);
  });
});

describe("hoverRows", () => {
  const rows = (series: string, n: number) =>
    Array.from({ length: n }, (_, i) => ({ series, run_id: series, key: "loss", x: i, y: i, smooth: i }));

  it("keeps every row within the budget, as fresh objects", () => {
    const all = rows("a", 5);
    const kept = hoverRows(all, 10);
    expect(kept).toEqual(all);
    expect(kept[0]).not.toBe(all[0]);
  });

  it("thins every series to about the budget, keeping each series' last point", () => {
    const all = [...rows("a", 1000), ...rows("b", 1000)];
    const kept = hoverRows(all, 100);
    expect(kept.length).toBeLessThanOrEqual(102);
    expect(kept.filter((r) => r.series === "a").at(-1)?.x).toBe(999);
    expect(kept.filter((r) => r.series === "b").at(-1)?.x).toBe(999);
  });
});
