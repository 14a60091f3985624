/**
 * Compare: runs side by side (params, metrics), their overlaid curves, and each run's code as
 * a diff against the first run's. Python computes everything; the browser lays it out.
 */

import type { AnyModel, RenderProps } from "@anywidget/types";
import { mountCurves } from "./chart";
import { diffStats, renderDiff } from "./diff";
import { type Mounted, type Part, h, keepingFocus, onChanges, statusBadge, traitCheckbox, widgetRoot } from "./dom";
import { formatCell, formatMetric } from "./format";
import { mountSweep } from "./sweep";
import type { CompareCode, CompareContent, CompareMetric, CompareModel, CompareParam, CompareRun } from "./models";
import { type Rows, snapshots } from "./snapshot";

type Model = AnyModel<CompareModel>;

/** `_content` with every list present (Python's initial value may be an empty dict). */
function content(model: Model): CompareContent {
  const value: Partial<CompareContent> = model.get("_content") ?? {};
  return {
    runs: value.runs ?? [],
    inputs: value.inputs ?? [],
    params: value.params ?? [],
    metrics: value.metrics ?? [],
    code: value.code ?? [],
    note: value.note ?? "",
  };
}

function metricText(value: number | null | undefined): string {
  return value === null || value === undefined ? "–" : formatMetric(value);
}

// --- tables ---------------------------------------------------------------------------------

function runHeader(runs: readonly CompareRun[]): HTMLTableSectionElement {
  const cells = runs.map((run) =>
    h(
      "th",
      { scope: "col", title: run.run_id },
      h("span", { class: "nbt-run-name" }, statusBadge(run.status, true), run.name || run.run_id),
      run.experiment && h("span", { class: "nbt-run-experiment" }, run.experiment),
    ),
  );
  return h("thead", {}, h("tr", {}, h("td", { class: "nbt-corner" }), ...cells));
}

function sectionRow(title: string, width: number): HTMLTableRowElement {
  return h("tr", { class: "nbt-section" }, h("th", { scope: "rowgroup", colspan: width }, title));
}

function noteRow(text: string, width: number): HTMLTableRowElement {
  return h("tr", {}, h("td", { class: "nbt-empty", colspan: width }, text));
}

function paramRow(param: CompareParam): HTMLTableRowElement {
  const column = { name: param.key, group: "params" } as const;
  const cells = param.values.map((value) => {
    const cell = formatCell(value, column);
    return h("td", { class: `nbt-cell-${cell.kind}`, title: cell.title }, cell.text);
  });
  return h("tr", { class: param.differs ? "nbt-differs" : undefined }, h("th", { scope: "row" }, param.key), ...cells);
}

function paramsBody(params: readonly CompareParam[], onlyDifferences: boolean, width: number): HTMLTableSectionElement {
  const shown = onlyDifferences ? params.filter((param) => param.differs) : params;
  const note = params.length === 0 ? "no params" : "no params differ";
  return h(
    "tbody",
    {},
    sectionRow("params", width),
    ...(shown.length > 0 ? shown.map(paramRow) : [noteRow(note, width)]),
  );
}

/** The datasets the runs used; no section when none logged any. */
function inputsBody(inputs: readonly CompareParam[], width: number): HTMLTableSectionElement | null {
  if (inputs.length === 0) return null;
  return h("tbody", {}, sectionRow("data: digest · rows", width), ...inputs.map(paramRow));
}

function metricCell(metric: CompareMetric, index: number): HTMLTableCellElement {
  const best = metric.best === index;
  const range = `min ${metricText(metric.min[index])} · max ${metricText(metric.max[index])}`;
  return h(
    "td",
    { class: best ? "nbt-best" : undefined },
    h("span", { class: "nbt-metric-last", title: "last value" }, metricText(metric.last[index])),
    best && h("span", { class: "nbt-sr-only" }, " (best)"),
    h("span", { class: "nbt-metric-range" }, range),
  );
}

function metricRow(metric: CompareMetric): HTMLTableRowElement {
  const direction = metric.higher_is_better ? "↑" : "↓";
  const hint = metric.higher_is_better ? "higher is better" : "lower is better";
  return h(
    "tr",
    {},
    h("th", { scope: "row" }, metric.key, " ", h("span", { class: "nbt-direction", title: hint }, direction)),
    ...metric.last.map((_, index) => metricCell(metric, index)),
  );
}

function metricsBody(metrics: readonly CompareMetric[], width: number): HTMLTableSectionElement {
  return h(
    "tbody",
    {},
    sectionRow("metrics: last value, min · max", width),
    ...(metrics.length > 0 ? metrics.map(metricRow) : [noteRow("no metrics", width)]),
  );
}

function comparisonTable(model: Model): Part<HTMLDivElement> {
  const table = h("table", { class: "nbt-grid nbt-compare-grid" });
  const update = (): void => {
    const { runs, inputs, params, metrics } = content(model);
    const width = runs.length + 1;
    const data = inputsBody(inputs, width);
    table.replaceChildren(
      runHeader(runs),
      ...(data ? [data] : []),
      paramsBody(params, model.get("only_differences") ?? false, width),
      metricsBody(metrics, width),
    );
  };
  update();
  return { el: h("div", { class: "nbt-scroll" }, table), update };
}

// --- code -----------------------------------------------------------------------------------

function codeEntry(entry: CompareCode, index: number, baseline: string, open: boolean): HTMLElement {
  if (entry.diff === "") {
    const note = index === 0 ? "the code the others are compared with" : `same code as ${baseline}`;
    return h("div", { class: "nbt-code-same" }, h("strong", {}, entry.name || entry.run_id), ` — ${note}`);
  }
  const { added, removed } = diffStats(entry.diff);
  const details = h(
    "details",
    { class: "nbt-code-diff", "data-run-id": entry.run_id },
    h(
      "summary",
      { "data-nbt-key": `code:${entry.run_id}` },
      h("strong", {}, entry.name || entry.run_id),
      ` vs ${baseline} `,
      h("span", { class: "nbt-diff-stat-add" }, `+${added}`),
      " ",
      h("span", { class: "nbt-diff-stat-del" }, `−${removed}`),
    ),
    renderDiff(entry.diff),
  );
  details.open = open;
  return details;
}

function codeSection(model: Model): Part<HTMLElement> {
  const list = h("div", { class: "nbt-code-list" });
  const el = h("section", { class: "nbt-code" }, h("h4", { class: "nbt-heading" }, "code"), list);
  const update = (): void => {
    const { code } = content(model);
    // Live refreshes rebuild the list: keep the diffs the user opened open.
    const open = new Set(
      Array.from(list.querySelectorAll<HTMLDetailsElement>("details[open]")).map((d) => d.dataset.runId),
    );
    const baseline = code.length > 0 ? code[0].name || code[0].run_id : "";
    keepingFocus(list, () => {
      list.replaceChildren(...code.map((entry, index) => codeEntry(entry, index, baseline, open.has(entry.run_id))));
    });
    el.hidden = code.length === 0;
  };
  update();
  return { el, update };
}

// --- widget ---------------------------------------------------------------------------------

/** The runs side by side, or the note saying why there are none (nothing selected yet). */
function sideBySide(model: Model, onDrawn: () => void): Mounted {
  const toggle = traitCheckbox(model, "only_differences", "only differences");
  const table = comparisonTable(model);
  const curves = mountCurves(model, onDrawn);
  const code = codeSection(model);
  const note = h("p", { class: "nbt-empty nbt-compare-note", role: "status" });
  const runs = h(
    "div",
    {},
    h("div", { class: "nbt-toolbar" }, toggle.el),
    table.el,
    h(
      "section",
      { class: "nbt-curves" },
      h("div", { class: "nbt-toolbar" }, h("h4", { class: "nbt-heading" }, "curves"), curves.slider, curves.reset),
      curves.chart,
    ),
    code.el,
  );
  const update = (): void => {
    const { runs: shown, note: why } = content(model);
    note.textContent = why;
    note.hidden = shown.length > 0 || why === "";
    runs.hidden = shown.length === 0;
  };
  const stops = [
    onChanges(model, ["only_differences"], toggle.update),
    onChanges(model, ["_content", "only_differences"], table.update),
    onChanges(model, ["_content"], code.update),
    onChanges(model, ["_content"], update),
  ];
  update();
  const el = h("div", { class: "nbt-side-by-side" }, note, runs);
  return {
    el,
    dispose: () => {
      for (const stop of stops) stop();
      curves.dispose();
    },
  };
}

/** What the saved notebook's image shows: the sweep's charts, then the curves. */
function charts(root: HTMLElement): Rows {
  const all = (selector: string): Element[] => Array.from(root.querySelectorAll(selector));
  return [all(".nbt-parallel-box, .nbt-scatter"), all(".nbt-curves .nbt-chart")];
}

function render({ model, el }: RenderProps<CompareModel>): () => void {
  const root = widgetRoot("compare");
  const sweep = mountSweep(model);
  const snaps = snapshots(model, root, () => charts(root), [sweep.el]);
  const runs = sideBySide(model, snaps.schedule);
  root.append(sweep.el, runs.el);
  el.append(root);
  return () => {
    snaps.dispose();
    sweep.dispose();
    runs.dispose();
    root.remove();
  };
}

export default { render };
