import { describe, expect, it } from "vitest";
import { LOG_SPAN, MISSING_GAP, axisScale, niceTicks, rampColor, tickLabel } from "../src/scales";

describe("axisScale", () => {
  it("places numbers linearly between their min and max", () => {
    const scale = axisScale([2, 4, 10], true);
    expect(scale.kind).toBe("linear");
    expect(scale.position(2)).toBe(0);
    expect(scale.position(10)).toBe(1);
    expect(scale.position(4)).toBeCloseTo(0.25);
    expect(scale.position("4")).toBeNull();
  });

  it("puts missing numbers in a slot below the others", () => {
    const scale = axisScale([2, null, 10], true);
    expect(scale.position(null)).toBe(0);
    expect(scale.position(2)).toBeCloseTo(MISSING_GAP);
    expect(scale.position(10)).toBe(1);
    expect(scale.ticks()[0]).toEqual({ position: 0, label: "–" });
  });

  it("uses a log scale for positive numbers spanning three decades", () => {
    const scale = axisScale([1e-4, 1e-3, 1e-2, 1e-1], true);
    expect(scale.kind).toBe("log");
    expect(scale.position(1e-3)).toBeCloseTo(1 / 3);
    expect(scale.ticks().map((t) => t.label)).toEqual(["1.0e-4", "0.001", "0.01", "0.1"]);
    // powers of ten only, not d3's unlabelled 2×…9× ticks between them
    expect(
      axisScale([3e-4, 0.3], true)
        .ticks()
        .map((t) => t.label),
    ).toEqual(["0.001", "0.01", "0.1"]);
    expect(axisScale([1, LOG_SPAN - 1], true).kind).toBe("linear");
    expect(axisScale([0, 1e-4, 1], true).kind).toBe("linear"); // zero has no logarithm
  });

  it("puts a constant in the middle", () => {
    expect(axisScale([3, 3], true).position(3)).toBe(0.5);
  });

  it("treats text, booleans and mixed values as categories, missing at the bottom", () => {
    const scale = axisScale(["sgd", "adam", null, "sgd"], false);
    expect(scale.kind).toBe("category");
    expect(scale.ticks().map((t) => t.label)).toEqual(["–", "adam", "sgd"]);
    expect(scale.position(null)).toBe(0);
    expect(scale.position("sgd")).toBe(1);
    expect(scale.position("rmsprop")).toBeNull();
    const mixed = axisScale([10, "auto", 2], true);
    expect(mixed.kind).toBe("category");
    expect(mixed.ticks().map((t) => t.label)).toEqual(["2", "10", "auto"]);
  });
});

describe("ticks and colours", () => {
  it("picks round steps", () => {
    expect(niceTicks(0, 1)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    // d3 takes the step nearest (0.057 / 5), not the next larger: about `count` ticks, here 6
    expect(niceTicks(0.93, 0.987)).toEqual([0.93, 0.94, 0.95, 0.96, 0.97, 0.98]);
    expect(niceTicks(5, 5)).toEqual([5]);
  });

  it("labels ticks briefly", () => {
    expect(tickLabel(0.123456)).toBe("0.1235");
    expect(tickLabel(250000)).toBe("2.5e5");
    expect(tickLabel(0)).toBe("0");
  });

  it("interpolates the ramp and clamps", () => {
    expect(rampColor(0)).toBe("#0d0887");
    expect(rampColor(0.5)).toBe("#b12a90");
    expect(rampColor(1)).toBe("#fca636");
    expect(rampColor(2)).toBe("#fca636");
    expect(rampColor(Number.NaN)).toBe("#0d0887");
    expect(rampColor(0.125)).toMatch(/^#[0-9a-f]{6}$/);
  });
});
