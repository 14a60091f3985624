import { describe, expect, it } from "vitest";
import { brushedRuns, setBrush } from "../src/brush";
import type { SweepContent, SweepParam } from "../src/models";
import { layoutOf, paint, runTitle, shownRuns } from "../src/sweep-layout";
import { BEST_KEPT, LINE_BUDGET } from "../src/sweep-pick";

/** A sweep of `runs` runs and 10 params p0..p9, p<i> with ρ i/10 with "loss" (lower is better). */
function sweep(runs: number, loss: (i: number) => number | null = (i) => i): SweepContent {
  const params: SweepParam[] = Array.from({ length: 10 }, (_, k) => ({
    key: `p${k}`,
    kind: "number",
    values: Array.from({ length: runs }, (_, i) => (i * (k + 1)) % 17),
    correlation: { loss: k / 10 },
  }));
  return {
    runs: Array.from({ length: runs }, (_, i) => ({ run_id: `id${i}`, name: `run ${i}`, status: "finished" })),
    params,
    constant: [],
    metrics: [{ key: "loss", values: Array.from({ length: runs }, (_, i) => loss(i)), higher_is_better: false }],
  };
}

const keys = (axes: ReadonlyArray<{ key: string }>): string[] => axes.map((axis) => axis.key);

describe("the sweep's layout", () => {
  it("draws the 8 params most related to the metric, then the metric", () => {
    const layout = layoutOf(sweep(5), { metric: "loss", param: "p9", axes: [] });
    expect(keys(layout.axes)).toEqual([
      "params.p2",
      "params.p3",
      "params.p4",
      "params.p5",
      "params.p6",
      "params.p7",
      "params.p8",
      "params.p9",
      "metrics.loss",
    ]);
  });

  it("draws the params chosen; the scatter's x still takes brushes when not drawn", () => {
    const layout = layoutOf(sweep(5), { metric: "loss", param: "p0", axes: ["p5", "gone"] });
    expect(keys(layout.axes)).toEqual(["params.p5", "metrics.loss"]);
    expect(layout.paramAxis?.key).toBe("params.p0");
    expect(keys(layout.brushable)).toEqual(["params.p5", "metrics.loss", "params.p0"]);
    // p0 is 0 for every run: a brush over the whole of p0 keeps them all, one above it none
    const all = setBrush(new Map(), "params.p0", 0, 1);
    expect(brushedRuns(layout.brushable, all, 5)).toEqual([0, 1, 2, 3, 4]);
    expect(brushedRuns(layout.axes, setBrush(new Map(), "params.p9", 0, 1), 5)).toEqual([]);
  });

  it("shades the best run brightest; a run without the metric is neither best nor worst", () => {
    const layout = layoutOf(
      sweep(4, (i) => (i === 0 ? null : i)),
      { metric: "loss", param: "p1", axes: [] },
    );
    expect(layout.shade[0]).toBeNull();
    expect(layout.shade[1]).toBe(1); // the lowest loss
    expect(layout.shade[3]).toBe(0);
    expect(layout.best).toEqual([1, 2, 3]);
    expect(paint(layout, new Set(), 0, { faded: "grey", missing: "muted" })).toEqual({
      faded: false,
      color: "muted",
    });
    expect(paint(layout, new Set([1]), 2, { faded: "grey", missing: "muted" })).toEqual({
      faded: true,
      color: "grey",
    });
  });

  it("writes a run's tooltip once: its name and its values on the axes drawn", () => {
    const layout = layoutOf(sweep(3), { metric: "loss", param: "p1", axes: ["p1"] });
    expect(runTitle(layout, 2)).toBe("run 2\np1: 4\nloss ↓: 2");
    expect(runTitle(layout, 2)).toBe(layout.titles.get(2));
  });
});

describe("the runs drawn", () => {
  it("draws every run of a small sweep, the chosen and the best last", () => {
    const layout = layoutOf(sweep(6), { metric: "loss", param: "p1", axes: [] });
    const shown = shownRuns(layout, new Set([4]));
    expect(shown.sampledFrom).toBe(0);
    expect(shown.order).toEqual([5, 3, 2, 1, 0, 4]); // worst loss first; the chosen on top
  });

  it("past the budget, draws a sample holding the chosen and the best runs", () => {
    const runs = LINE_BUDGET * 2;
    const layout = layoutOf(sweep(runs), { metric: "loss", param: "p1", axes: [] });
    const chosen = new Set([runs - 1, runs - 2]); // the two worst
    const shown = shownRuns(layout, chosen);
    expect(shown.sampledFrom).toBe(runs);
    expect(shown.order).toHaveLength(LINE_BUDGET);
    const drawn = new Set(shown.order);
    for (let i = 0; i < BEST_KEPT; i++) expect(drawn.has(i)).toBe(true); // loss i: run 0 is best
    expect(shown.order.slice(-2).sort()).toEqual([runs - 2, runs - 1]);
  });
});
