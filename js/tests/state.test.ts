import { describe, expect, it } from "vitest";
import type { SortKey } from "../src/models";
import {
  chooserColumns,
  nextOffset,
  nextSort,
  pageSelection,
  previousOffset,
  setColumnVisible,
  setPageSelected,
  toggleId,
} from "../src/state";

describe("selection", () => {
  it("toggles an id, keeping the order of the others", () => {
    expect(toggleId(["a", "b", "c"], "b")).toEqual(["a", "c"]);
    expect(toggleId(["a", "c"], "b")).toEqual(["a", "c", "b"]);
    expect(toggleId([], "x")).toEqual(["x"]);
  });

  it("does not change its input", () => {
    const ids = ["a"];
    toggleId(ids, "b");
    expect(ids).toEqual(["a"]);
  });

  it("selects and deselects a page, leaving other pages' selections", () => {
    expect(setPageSelected(["z", "b"], ["a", "b", "c"], true)).toEqual(["z", "b", "a", "c"]);
    expect(setPageSelected(["z", "b", "a"], ["a", "b", "c"], false)).toEqual(["z"]);
  });

  it("tells how much of the page is selected", () => {
    expect(pageSelection([], ["a", "b"])).toBe("none");
    expect(pageSelection(["b", "x"], ["a", "b"])).toBe("some");
    expect(pageSelection(["b", "a"], ["a", "b"])).toBe("all");
    expect(pageSelection(["a"], [])).toBe("none");
  });
});

describe("nextSort", () => {
  const key = (column: string, descending: boolean): SortKey => ({ column, descending });

  it("cycles a metric: none -> descending -> ascending -> none", () => {
    const first = nextSort([], "metrics.acc", "metrics", false);
    expect(first).toEqual([key("metrics.acc", true)]);
    const second = nextSort(first, "metrics.acc", "metrics", false);
    expect(second).toEqual([key("metrics.acc", false)]);
    expect(nextSort(second, "metrics.acc", "metrics", false)).toEqual([]);
  });

  it("cycles other columns: none -> ascending -> descending -> none", () => {
    const first = nextSort([], "name", "attributes", false);
    expect(first).toEqual([key("name", false)]);
    const second = nextSort(first, "name", "attributes", false);
    expect(second).toEqual([key("name", true)]);
    expect(nextSort(second, "name", "attributes", false)).toEqual([]);
    expect(nextSort([], "params.lr", "params", false)).toEqual([key("params.lr", false)]);
    expect(nextSort([], "unknown", undefined, false)).toEqual([key("unknown", false)]);
  });

  it("replaces the other keys on a plain click", () => {
    expect(nextSort([key("name", false)], "metrics.acc", "metrics", false)).toEqual([key("metrics.acc", true)]);
    expect(nextSort([key("name", false), key("metrics.acc", true)], "metrics.acc", "metrics", false)).toEqual([
      key("metrics.acc", false),
    ]);
  });

  it("adds a secondary key on shift-click and cycles it in place", () => {
    const primary = [key("metrics.acc", true)];
    const both = nextSort(primary, "params.lr", "params", true);
    expect(both).toEqual([key("metrics.acc", true), key("params.lr", false)]);
    const flipped = nextSort(both, "metrics.acc", "metrics", true);
    expect(flipped).toEqual([key("metrics.acc", false), key("params.lr", false)]);
    expect(nextSort(flipped, "metrics.acc", "metrics", true)).toEqual([key("params.lr", false)]);
  });
});

describe("columns and paging", () => {
  it("shows a column at the end, or hides it", () => {
    expect(setColumnVisible(["a", "b"], "c", true)).toEqual(["a", "b", "c"]);
    expect(setColumnVisible(["a", "b"], "a", true)).toEqual(["a", "b"]);
    expect(setColumnVisible(["a", "b"], "a", false)).toEqual(["b"]);
  });

  it("moves between pages within bounds", () => {
    expect(previousOffset(50, 25)).toBe(25);
    expect(previousOffset(10, 25)).toBe(0);
    expect(nextOffset(0, 25, 60)).toBe(25);
    expect(nextOffset(50, 25, 60)).toBe(50);
    expect(nextOffset(25, 25, 50)).toBe(25);
  });
});

describe("chooserColumns", () => {
  const names = Array.from({ length: 250 }, (_, i) => `metrics.m${String(i).padStart(3, "0")}`);

  it("lists a page of columns, shown ones first, and counts the rest", () => {
    const listed = chooserColumns(names, "", new Set(["metrics.m200"]), 100);
    expect(listed.names).toHaveLength(100);
    expect(listed.names[0]).toBe("metrics.m200");
    expect(listed.names[1]).toBe("metrics.m000");
    expect(listed.more).toBe(150);
  });

  it("finds columns by any part of their name, in any case", () => {
    const listed = chooserColumns(names, " M24", new Set(), 100);
    expect(listed.names).toEqual(Array.from({ length: 10 }, (_, i) => `metrics.m24${i}`));
    expect(listed.more).toBe(0);
  });
});
