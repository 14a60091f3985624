import { describe, expect, it } from "vitest";
import { type BrushAxis, brushedRuns, sameIds, setBrush } from "../src/brush";
import { axisScale } from "../src/scales";

const lr = [0.1, 0.2, 0.3, 0.4, null];
const opt = ["adam", "sgd", "adam", "sgd", "adam"];
const axes: BrushAxis[] = [
  { key: "params.lr", scale: axisScale(lr, true), values: lr },
  { key: "params.opt", scale: axisScale(opt, false), values: opt },
];

describe("brushing", () => {
  it("orders and clamps a range; a click clears it", () => {
    const one = setBrush(new Map(), "params.lr", 0.8, -0.5);
    expect(one.get("params.lr")).toEqual([0, 0.8]);
    expect(setBrush(one, "params.lr", 0.5, 0.501).has("params.lr")).toBe(false);
    expect(one.has("params.lr")).toBe(true); // the input is left alone
  });

  it("snaps an end dragged close to the axis' end onto it", () => {
    expect(setBrush(new Map(), "k", 0.995, 0.6).get("k")).toEqual([0.6, 1]);
    expect(setBrush(new Map(), "k", 0.004, 0.3).get("k")).toEqual([0, 0.3]);
  });

  it("selects nothing without brushes", () => {
    expect(brushedRuns(axes, new Map(), 5)).toEqual([]);
  });

  it("keeps the runs inside every brush", () => {
    // lr sits at 0.12 (0.1) to 1 (0.4) above the missing slot at 0
    const low = setBrush(new Map(), "params.lr", 0.05, 0.5);
    expect(brushedRuns(axes, low, 5)).toEqual([0, 1]);
    const adam = setBrush(low, "params.opt", -0.1, 0.1);
    expect(brushedRuns(axes, adam, 5)).toEqual([0]);
    expect(brushedRuns(axes, setBrush(new Map(), "params.opt", 0, 0.2), 5)).toEqual([0, 2, 4]);
  });

  it("takes the runs missing a value when the brush covers the missing slot", () => {
    expect(brushedRuns(axes, setBrush(new Map(), "params.lr", 0, 0.05), 5)).toEqual([4]);
  });

  it("ignores a brush on an axis not shown", () => {
    const stale = setBrush(new Map(), "metrics.old", 0, 1);
    expect(brushedRuns(axes, stale, 5)).toEqual([]);
  });

  it("compares selections as sets", () => {
    expect(sameIds(["a", "b"], ["b", "a"])).toBe(true);
    expect(sameIds(["a"], ["a", "b"])).toBe(false);
  });
});
