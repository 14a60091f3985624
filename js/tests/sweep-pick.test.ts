import { describe, expect, it } from "vitest";
import type { SweepParam } from "../src/models";
import {
  BEST_KEPT,
  DEFAULT_AXES,
  bestRuns,
  byStrength,
  rhoText,
  sampledRuns,
  shownParams,
  strength,
  toggledAxes,
} from "../src/sweep-pick";

/** A param with ρ `rho` with metric "m" (undefined: none, as a categorical param has). */
function param(key: string, rho?: number | null): SweepParam {
  return { key, kind: "number", values: [], correlation: rho === undefined ? {} : { m: rho } };
}

const keys = (params: readonly SweepParam[]): string[] => params.map((p) => p.key);

describe("the params drawn as axes", () => {
  // |ρ| 0.5 is shared by e, f, j and l, around the 8th place
  const params = [
    param("a", 0.1),
    param("b", -0.9),
    param("c", 0.8),
    param("d", null),
    param("e", 0.5),
    param("f", -0.5),
    param("g", 0.7),
    param("h", -0.6),
    param("i"),
    param("j", 0.5),
    param("k", 0.65),
    param("l", -0.5),
  ];

  it("measures a param by |ρ|, an undefined one as 0", () => {
    expect(strength(params[1], "m")).toBeCloseTo(0.9);
    expect(strength(params[3], "m")).toBe(0);
    expect(strength(params[8], "m")).toBe(0);
    expect(strength(params[1], "other")).toBe(0);
  });

  it("orders params by |ρ|, ties in their own order", () => {
    expect(keys(byStrength(params, "m"))).toEqual(["b", "c", "g", "k", "h", "e", "f", "j", "l", "a", "d", "i"]);
  });

  it("shows by default the 8 most related to the metric, in their own order", () => {
    // of e, f, j and l (|ρ| 0.5), the last is left out
    expect(DEFAULT_AXES).toBe(8);
    expect(keys(shownParams(params, "m", []))).toEqual(["b", "c", "e", "f", "g", "h", "j", "k"]);
  });

  it("keeps their order for a metric without correlations (every ρ counts as 0)", () => {
    expect(keys(shownParams(params, "other", []))).toEqual(["a", "b", "c", "d", "e", "f", "g", "h"]);
  });

  it("shows every param when there are at most 8", () => {
    expect(keys(shownParams(params.slice(0, 3), "m", []))).toEqual(["a", "b", "c"]);
  });

  it("shows the params chosen, in their own order, ignoring unknown keys", () => {
    expect(keys(shownParams(params, "m", ["i", "a", "gone"]))).toEqual(["a", "i"]);
    expect(keys(shownParams(params, "m", ["gone"]))).toEqual(keys(shownParams(params, "m", [])));
  });

  it("adds and removes an axis, keeping the params' order", () => {
    const shown = shownParams(params, "m", ["c", "h"]);
    expect(toggledAxes(params, shown, "a", true)).toEqual(["a", "c", "h"]);
    expect(toggledAxes(params, shown, "h", false)).toEqual(["c"]);
    expect(toggledAxes(params, shown, "c", true)).toEqual(["c", "h"]);
  });

  it("writes ρ with its sign", () => {
    expect(rhoText(0.523)).toBe("ρ +0.52");
    expect(rhoText(-0.5)).toBe("ρ −0.50");
    expect(rhoText(null)).toBe("");
    expect(rhoText(undefined)).toBe("");
  });
});

describe("the runs drawn", () => {
  const ids = Array.from({ length: 2000 }, (_, i) => `run-${i.toString(36).padStart(4, "0")}`);

  it("draws every run within the budget", () => {
    expect(sampledRuns(ids.slice(0, 10), 10, [])).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it("draws a fixed sample of the budget's size, in order, always the same", () => {
    const sample = sampledRuns(ids, 1000, [5, 1999]);
    expect(sample).toHaveLength(1000);
    expect(sample).toEqual([...sample].sort((a, b) => a - b));
    expect(new Set(sample).size).toBe(1000);
    expect(sample).toContain(5);
    expect(sample).toContain(1999);
    expect(sampledRuns(ids, 1000, [1999, 5])).toEqual(sample);
  });

  it("spreads the sample over the runs", () => {
    const sample = sampledRuns(ids, 1000, []);
    const firstHalf = sample.filter((i) => i < 1000).length;
    expect(firstHalf).toBeGreaterThan(400);
    expect(firstHalf).toBeLessThan(600);
  });

  it("keeps every run it must, past the budget too", () => {
    const keep = Array.from({ length: 1500 }, (_, i) => i * 2 - (i % 2));
    const sample = sampledRuns(ids, 1000, keep);
    expect(sample).toHaveLength(1500);
    expect(sample).toEqual([...new Set(keep)].sort((a, b) => a - b));
  });

  it("swaps few runs when a live refresh adds runs", () => {
    const before = new Set(sampledRuns(ids.slice(0, 1900), 1000, []));
    const after = sampledRuns(ids, 1000, []);
    const kept = after.filter((i) => before.has(i)).length;
    expect(kept).toBeGreaterThan(900);
  });

  it("picks the best runs by their shade, leaving out those without one", () => {
    expect(bestRuns([0.2, null, 1, 0.5, 0.9], 3)).toEqual([2, 4, 3]);
    expect(bestRuns([null, 0.1], 5)).toEqual([1]);
    expect(BEST_KEPT).toBeLessThan(1000);
  });
});
