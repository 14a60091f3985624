import { describe, expect, it } from "vitest";
import type { SeriesInfo } from "../src/models";
import type { CurveTraits } from "../src/models";
import { type CurveModel, LiveCurves, type SeriesChange, applyPatch, decodeSeries, isCurvePatch } from "../src/series";

/** Python's encoding: all x as float64 LE, then all y as float32 LE (`padding` bytes before). */
function encode(points: Array<[number, number]>, padding = 0): DataView {
  const view = new DataView(new ArrayBuffer(padding + points.length * 12), padding);
  points.forEach(([x, y], i) => {
    view.setFloat64(i * 8, x, true);
    view.setFloat32(points.length * 8 + i * 4, y, true);
  });
  return view;
}

const info = (run_id: string, count: number): SeriesInfo => ({ run_id, name: run_id, key: "loss", count });

/** Each series' points as [x, y] pairs. */
function points(series: SeriesInfo[], data: DataView): Array<Array<[number, number]>> {
  return decodeSeries(series, data).map(({ x, y }) => Array.from(x, (value, i): [number, number] => [value, y[i]]));
}

// Three series: a (3 points), b (2 points), c (2 points).
const series = [info("a", 3), info("b", 2), info("c", 2)];
const rows: Array<[number, number]> = [
  [0, 1],
  [1, 2],
  [2, 3],
  [0, 10],
  [5, 20],
  [0, 0.5],
  [1, 0.25],
];
const state = encode(rows);

describe("applyPatch", () => {
  it("keeps a prefix and appends the new tail, leaving unchanged series alone", () => {
    const changes: SeriesChange[] = [
      { index: 0, keep: 2, added: 3 },
      { index: 2, keep: 2, added: 1 },
    ];
    const added = encode([
      [2, 2.5],
      [3, 4],
      [4, 5],
      [2, 0.125],
    ]);
    const next = applyPatch(series, state, changes, added);
    expect(next.series.map((s) => s.count)).toEqual([5, 2, 3]);
    expect(next.series[1]).toBe(series[1]);
    expect(points(next.series, next.data)).toEqual([
      [
        [0, 1],
        [1, 2],
        [2, 2.5],
        [3, 4],
        [4, 5],
      ],
      [
        [0, 10],
        [5, 20],
      ],
      [
        [0, 0.5],
        [1, 0.25],
        [2, 0.125],
      ],
    ]);
  });

  it("replaces a whole series, or shortens one", () => {
    const next = applyPatch(
      series,
      state,
      [
        { index: 0, keep: 1, added: 0 },
        { index: 1, keep: 0, added: 1 },
      ],
      encode([[7, 8]]),
    );
    expect(next.series.map((s) => s.count)).toEqual([1, 1, 2]);
    expect(points(next.series, next.data)).toEqual([
      [[0, 1]],
      [[7, 8]],
      [
        [0, 0.5],
        [1, 0.25],
      ],
    ]);
  });

  it("returns the same points for no changes, and reads unaligned buffers", () => {
    const next = applyPatch(series, encode(rows, 3), [], null);
    expect(points(next.series, next.data)).toEqual(points(series, state));
    const grown = applyPatch(series, state, [{ index: 1, keep: 2, added: 1 }], encode([[6, 30]], 5));
    expect(points(grown.series, grown.data)[1]).toEqual([
      [0, 10],
      [5, 20],
      [6, 30],
    ]);
  });

  it("raises a clear error when the sizes do not fit", () => {
    const one = encode([[9, 9]]);
    expect(() => applyPatch(series, state, [{ index: 0, keep: 3, added: 2 }], one)).toThrow(
      /12 bytes, but its 2 added points need 24/,
    );
    expect(() => applyPatch(series, state, [{ index: 1, keep: 3, added: 1 }], one)).toThrow(
      /keeps 3 points of series 1 and adds 1, but that series has 2 points/,
    );
    expect(() => applyPatch(series, state, [{ index: 3, keep: 0, added: 1 }], one)).toThrow(
      /changes series 3, but there are 3/,
    );
    expect(() =>
      applyPatch(
        series,
        state,
        [
          { index: 2, keep: 0, added: 1 },
          { index: 0, keep: 0, added: 0 },
        ],
        one,
      ),
    ).toThrow(/in the order of the series/);
    expect(() => applyPatch([info("a", 4)], state, [], null)).toThrow(/_data has 84 bytes/);
  });

  it("applies a patch twice to the same result (a second view merging it changes nothing)", () => {
    const changes = [{ index: 0, keep: 1, added: 1 }];
    const added = encode([[1, 9]]);
    const once = applyPatch(series, state, changes, added);
    const twice = applyPatch(once.series, once.data, changes, added);
    expect(points(twice.series, twice.data)).toEqual(points(once.series, once.data));
  });
});

describe("isCurvePatch", () => {
  it("tells Python's patches from other messages", () => {
    expect(isCurvePatch({ type: "curves_patch", base: 1, version: 2, changes: [] })).toBe(true);
    expect(isCurvePatch({ type: "other" })).toBe(false);
    expect(isCurvePatch(null)).toBe(false);
    expect(isCurvePatch("curves_patch")).toBe(false);
  });
});

/** A model as Python left it: traits it can read, and no way to set one (a set would upload). */
function model(traits: Partial<CurveTraits>): CurveModel {
  return { get: <K extends keyof CurveTraits>(name: K) => traits[name] as CurveTraits[K] };
}

describe("LiveCurves", () => {
  const patch = (base: number) => ({
    type: "curves_patch" as const,
    base,
    version: base + 1,
    changes: [{ index: 1, keep: 2, added: 1 }],
  });
  const added = encode([[6, 30]]);

  it("merges patches beside the model, for every view of it, without setting any trait", () => {
    const chart = model({ _series: series, _data: state, _curves_version: 4 });
    const live = new LiveCurves();
    const redrawn: string[] = [];
    live.listen(chart, () => redrawn.push("first view"));
    const stop = live.listen(chart, () => redrawn.push("second view"));
    expect(live.merge(chart, patch(4), added)).toBe("merged");
    expect(live.merge(chart, patch(4), added)).toBe("merged"); // the second view hears it too
    expect(redrawn).toEqual(["first view", "second view"]);
    const now = live.current(chart);
    expect(now.version).toBe(5);
    expect(points(now.series, now.data)[1]).toEqual([
      [0, 10],
      [5, 20],
      [6, 30],
    ]);
    stop();
    expect(live.merge(chart, patch(5), encode([[7, 40]]))).toBe("merged");
    expect(redrawn).toEqual(["first view", "second view", "first view"]);
  });

  it("says a patch is stale when messages were missed, and yields to a newer full state", () => {
    const traits: Partial<CurveTraits> = { _series: series, _data: state, _curves_version: 4 };
    const chart = model(traits);
    const live = new LiveCurves();
    expect(live.merge(chart, patch(6), added)).toBe("stale");
    expect(live.current(chart).version).toBe(4);
    live.merge(chart, patch(4), added);
    Object.assign(traits, { _series: [info("z", 1)], _data: encode([[0, 1]]), _curves_version: 9 });
    expect(live.current(chart).series).toEqual([info("z", 1)]); // Python sent everything anew
  });
});
