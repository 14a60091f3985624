import { describe, expect, it } from "vitest";
import {
  KEY_PAN,
  KEY_ZOOM,
  MIN_DRAG_PX,
  type XRange,
  asRange,
  dragRange,
  keyRange,
  panBy,
  sameRange,
  wheelRange,
  withinHome,
  xAt,
  zoomAround,
} from "../src/zoom";

const shown: XRange = [0, 1000];

describe("dragRange", () => {
  it("zooms to the range dragged across, in either direction", () => {
    expect(dragRange(shown, 100, 300, 500)).toEqual([200, 600]);
    expect(dragRange(shown, 300, 100, 500)).toEqual([200, 600]);
  });

  it("keeps to the plot when the drag ends outside it", () => {
    expect(dragRange(shown, 400, 700, 500)).toEqual([800, 1000]);
    expect(dragRange(shown, 50, -80, 500)).toEqual([0, 100]);
  });

  it("takes a drag narrower than a few pixels for a click", () => {
    expect(dragRange(shown, 100, 100 + MIN_DRAG_PX - 1, 500)).toBeNull();
  });

  it("never narrows a range past what the numbers can tell apart", () => {
    const [low, high] = dragRange([1e9, 1e9 + 1e-3], 0, 10, 1_000_000) as XRange;
    expect(high).toBeGreaterThan(low);
    expect(low + (high - low) / 2).toBeCloseTo(1e9, 0);
  });
});

describe("wheel, keys and panning", () => {
  it("zooms around the pointer: what is under it stays under it", () => {
    const next = wheelRange(shown, 100, 500, -200); // scrolled up: in
    expect(next[1] - next[0]).toBeLessThan(1000);
    expect(xAt(next, 100, 500)).toBeCloseTo(200, 9);
    const out = wheelRange(shown, 100, 500, 200);
    expect(out[1] - out[0]).toBeGreaterThan(1000);
    expect(xAt(out, 100, 500)).toBeCloseTo(200, 9);
  });

  it("pans by a share of the range shown", () => {
    expect(panBy(shown, 0.25)).toEqual([250, 1250]);
    expect(panBy(shown, -0.5)).toEqual([-500, 500]);
  });

  it("zooms and pans from the keyboard, and 0 or Escape show all", () => {
    expect(keyRange(shown, "+")).toEqual(zoomAround(shown, 500, 1 / KEY_ZOOM));
    expect(keyRange(shown, "-")).toEqual(zoomAround(shown, 500, KEY_ZOOM));
    expect(keyRange(shown, "ArrowRight")).toEqual([1000 * KEY_PAN, 1000 + 1000 * KEY_PAN]);
    expect(keyRange(shown, "0")).toBeNull();
    expect(keyRange(shown, "Escape")).toBeNull();
    expect(keyRange(shown, "a")).toBeUndefined();
  });
});

describe("reset", () => {
  it("a range covering the whole curves shows all of them", () => {
    expect(withinHome([-10, 1010], shown)).toBeNull();
    expect(withinHome([10, 1010], shown)).toEqual([10, 1010]);
    expect(withinHome([10, 20], null)).toEqual([10, 20]);
  });

  it("reads the model's range, anything else meaning none", () => {
    expect(asRange([1, 2])).toEqual([1, 2]);
    for (const value of [null, undefined, [], [2, 1], [1, Number.NaN], "1,2"]) expect(asRange(value)).toBeNull();
    expect(sameRange(null, undefined)).toBe(true);
    expect(sameRange([1, 2], [1, 2])).toBe(true);
    expect(sameRange([1, 2], null)).toBe(false);
  });
});
