import { describe, expect, it } from "vitest";
import { type Polyline, nearestDot, nearestLine } from "../src/sweep-marks";

const line = (...ys: Array<number | null>): Polyline => {
  const parts: Polyline = [];
  let pen = false;
  ys.forEach((y, i) => {
    if (y === null) {
      pen = false;
      return;
    }
    if (!pen) parts.push([]);
    parts[parts.length - 1].push({ x: i * 100, y });
    pen = true;
  });
  return parts;
};

describe("the canvas line under the pointer", () => {
  // at x = 50: line 0 at 50, line 1 at 20; line 2 has no value at x = 100 (a gap from 0 to 200)
  const lines = [line(0, 100, 50, 50), line(20, 20, 60, 60), line(40, null, 55, 55)];

  it("is the one crossing nearest above or below the pointer", () => {
    expect(nearestLine(lines, { x: 50, y: 47 }, 4)).toBe(0);
    expect(nearestLine(lines, { x: 50, y: 22 }, 4)).toBe(1);
    expect(nearestLine(lines, { x: 250, y: 56 }, 4)).toBe(2);
  });

  it("is the one drawn last on a tie (it lies on top)", () => {
    const crossing = [line(0, 100), line(100, 0)];
    expect(nearestLine(crossing, { x: 50, y: 51 }, 4)).toBe(1);
  });

  it("is none farther than the tolerance", () => {
    expect(nearestLine(lines, { x: 50, y: 35 }, 4)).toBeNull();
  });

  it("is none in a line's gap, where it has no value", () => {
    expect(nearestLine(lines, { x: 100, y: 47 }, 4)).toBeNull(); // line 2 would be at 47.5
    expect(nearestLine(lines, { x: 0, y: 41 }, 4)).toBeNull(); // a lone point is not drawn
  });
});

describe("the dot under the pointer", () => {
  const dots = [
    { x: 10, y: 10 },
    { x: 14, y: 10 },
    { x: 50, y: 50 },
  ];

  it("is the nearest within the radius, the last drawn on a tie", () => {
    expect(nearestDot(dots, { x: 11, y: 10 }, 5)).toBe(0);
    expect(nearestDot(dots, { x: 12, y: 10 }, 5)).toBe(1);
    expect(nearestDot(dots, { x: 48, y: 53 }, 5)).toBe(2);
    expect(nearestDot(dots, { x: 30, y: 30 }, 5)).toBeNull();
  });
});
