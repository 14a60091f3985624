import { describe, expect, it } from "vitest";
import { type BrushAxis, KEY_SPAN, MIN_BRUSH, brushedRuns, keyedBrush, sameIds, setBrush } from "../src/brush";
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

describe("keyboard brushing", () => {
  it("starts a brush at the top and moves it with the arrows, inside the axis", () => {
    expect(keyedBrush(undefined, "ArrowDown", false)).toEqual([1 - KEY_SPAN, 1]);
    const down = keyedBrush([0.8, 1], "ArrowDown", false) as [number, number];
    expect(down[0]).toBeCloseTo(0.75);
    expect(down[1]).toBeCloseTo(0.95);
    expect(keyedBrush([0.8, 1], "ArrowUp", false)).toEqual([0.8, 1]); // already at the top
    const bottom = keyedBrush([0.02, 0.22], "ArrowDown", false) as [number, number];
    expect(bottom[0]).toBeCloseTo(0);
    expect(bottom[1]).toBeCloseTo(0.2);
  });

  it("resizes with Shift and clears with Escape", () => {
    const grown = keyedBrush([0.8, 1], "ArrowDown", true) as [number, number];
    expect(grown[0]).toBeCloseTo(0.75);
    expect(grown[1]).toBe(1);
    const thin = keyedBrush([0.97, 1], "ArrowUp", true) as [number, number];
    expect(thin[1] - thin[0]).toBeGreaterThanOrEqual(2 * MIN_BRUSH - 1e-12);
    expect(keyedBrush([0.8, 1], "Escape", false)).toBeNull();
    expect(keyedBrush([0.8, 1], "a", false)).toBeUndefined();
  });
});
