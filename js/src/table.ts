/**
 * RunTable: one page of runs, already filtered, sorted and paged by Python. The browser only
 * edits the two-way traits (filter, sort, columns, selection, paging) and shows what comes back.
 */

import type { AnyModel, RenderProps } from "@anywidget/types";
import { type Part, batched, h, keepingFocus, onChanges, save, statusBadge, uniqueId, widgetRoot } from "./dom";
import { filterBox, filterError } from "./filter";
import { formatCell, rowsLabel } from "./format";
import type { ColumnGroup, ColumnInfo, RunTableModel, SortKey, TableRow } from "./models";
import {
  chooserColumns,
  nextOffset,
  nextSort,
  pageSelection,
  previousOffset,
  setColumnVisible,
  setPageSelected,
  toggleId,
} from "./state";

type Model = AnyModel<RunTableModel>;

const GROUPS: readonly ColumnGroup[] = ["attributes", "params", "metrics", "tags"];
const PAGE_SIZES: readonly number[] = [10, 25, 50, 100, 200];
/** Stays in view, right of the selection column, when the table scrolls sideways. */
const PINNED_COLUMN = "name";

function columnInfo(model: Model): Map<string, ColumnInfo> {
  return new Map((model.get("_all_columns") ?? []).map((column) => [column.name, column]));
}

/** Set a trait and go back to the first page, in one message to Python. */
function saveFromFirstPage<K extends keyof RunTableModel>(model: Model, name: K, value: RunTableModel[K]): void {
  model.set(name, value);
  model.set("offset", 0); // a new filter or order makes the current page meaningless
  model.save_changes();
}

// --- column chooser -------------------------------------------------------------------------

function columnCheckbox(model: Model, column: ColumnInfo, visible: boolean): HTMLLabelElement {
  const input = h("input", { type: "checkbox", "data-nbt-key": `column:${column.name}` });
  input.checked = visible;
  input.addEventListener("change", () => {
    save(model, "columns", setColumnVisible(model.get("columns") ?? [], column.name, input.checked));
  });
  return h("label", { class: "nbt-option" }, input, column.name);
}

/** Columns listed per group at first, and added by each "more" click. */
const CHOOSER_PAGE = 100;

function columnGroup(
  model: Model,
  group: ColumnGroup,
  visible: ReadonlySet<string>,
  query: string,
  limits: Map<ColumnGroup, number>,
  update: () => void,
): HTMLFieldSetElement | null {
  const names = (model.get("_all_columns") ?? []).filter((c) => c.group === group).map((c) => c.name);
  const limit = limits.get(group) ?? CHOOSER_PAGE;
  const listed = chooserColumns(names, query, visible, limit);
  if (listed.names.length === 0) return null;
  const more =
    listed.more > 0
      ? h(
          "button",
          { type: "button", class: "nbt-link", "data-nbt-key": `more:${group}` },
          `${listed.more.toLocaleString()} more…`,
        )
      : null;
  more?.addEventListener("click", () => {
    limits.set(group, limit + CHOOSER_PAGE);
    update();
  });
  return h(
    "fieldset",
    { class: "nbt-column-group" },
    h("legend", {}, group),
    ...listed.names.map((name) => columnCheckbox(model, { name, group }, visible.has(name))),
    more,
  );
}

/** The "Columns" button and the panel it opens: a search box, then each group's columns
 * (shown ones first, a page at a time), so that thousands of metrics stay easy to pick from. */
function columnChooser(model: Model): Part & { button: HTMLButtonElement } {
  const panel = h("div", { class: "nbt-columns-panel", id: uniqueId("nbt-columns"), hidden: true });
  const search = h("input", {
    type: "search",
    class: "nbt-columns-search",
    placeholder: "Find a column",
    "aria-label": "Find a column",
  });
  const groups = h("div", { class: "nbt-columns-groups" });
  panel.append(search, groups);
  const limits = new Map<ColumnGroup, number>();
  const button = h(
    "button",
    { type: "button", class: "nbt-button", "aria-expanded": "false", "aria-controls": panel.id },
    "Columns",
  );
  const setOpen = (open: boolean): void => {
    panel.hidden = !open;
    button.setAttribute("aria-expanded", String(open));
    if (open) search.focus();
  };
  button.addEventListener("click", () => setOpen(panel.hidden));
  panel.addEventListener("keydown", (event) => {
    if (event.key !== "Escape") return;
    setOpen(false);
    button.focus();
  });
  const update = (): void => {
    const visible = new Set(model.get("columns") ?? []);
    keepingFocus(groups, () => {
      groups.replaceChildren(
        ...GROUPS.map((group) => columnGroup(model, group, visible, search.value, limits, update)).filter(
          (g) => g !== null,
        ),
      );
    });
  };
  search.addEventListener("input", () => {
    limits.clear();
    update();
  });
  update();
  return { el: panel, button, update };
}

// --- grid -----------------------------------------------------------------------------------

function columnLabel(column: string, group: ColumnGroup | undefined): HTMLElement {
  const prefix = group && group !== "attributes" && column.startsWith(`${group}.`) ? `${group}.` : "";
  return h(
    "span",
    { class: "nbt-column-label" },
    prefix && h("span", { class: "nbt-prefix" }, prefix),
    column.slice(prefix.length),
  );
}

function sortMark(sort: readonly SortKey[], column: string): HTMLElement | null {
  const index = sort.findIndex((key) => key.column === column);
  if (index < 0) return null;
  const arrow = sort[index].descending ? "▼" : "▲";
  return h("span", { class: "nbt-sort-mark", "aria-hidden": "true" }, sort.length > 1 ? `${arrow}${index + 1}` : arrow);
}

function ariaSort(sort: readonly SortKey[], column: string): string {
  const key = sort.find((k) => k.column === column);
  if (!key) return "none";
  return key.descending ? "descending" : "ascending";
}

/** Class names of a header or body cell of `column`: numbers align right; the name is pinned. */
function cellClasses(column: string, numeric: boolean, ...others: string[]): string | undefined {
  if (numeric) others.push("nbt-num");
  if (column === PINNED_COLUMN) others.push("nbt-pin", "nbt-pin-name");
  return others.length > 0 ? others.join(" ") : undefined;
}

/** Columns holding numbers on this page: right-aligned, header included, so digits line up. */
function numericColumns(columns: readonly string[], rows: readonly TableRow[]): Set<string> {
  return new Set(columns.filter((column) => rows.some((row) => typeof row.values[column] === "number")));
}

function headerCell(
  model: Model,
  column: string,
  info: Map<string, ColumnInfo>,
  numeric: boolean,
): HTMLTableCellElement {
  const sort = model.get("sort") ?? [];
  const group = info.get(column)?.group;
  const button = h(
    "button",
    {
      type: "button",
      class: "nbt-sort",
      "data-nbt-key": `sort:${column}`,
      title: "sort by this column; shift-click adds it as a further key",
    },
    columnLabel(column, group),
    sortMark(sort, column),
  );
  button.addEventListener("click", (event) => {
    saveFromFirstPage(model, "sort", nextSort(model.get("sort") ?? [], column, group, event.shiftKey));
  });
  return h("th", { scope: "col", class: cellClasses(column, numeric), "aria-sort": ariaSort(sort, column) }, button);
}

function pageCheckbox(model: Model): HTMLInputElement {
  const input = h("input", {
    type: "checkbox",
    class: "nbt-select-page",
    "aria-label": "select every run on this page",
    "data-nbt-key": "select-page",
  });
  input.addEventListener("change", () => {
    const pageIds = (model.get("_rows") ?? []).map((row) => row.run_id);
    save(model, "selected", setPageSelected(model.get("selected") ?? [], pageIds, input.checked));
  });
  return input;
}

function valueCell(
  row: TableRow,
  column: string,
  info: ColumnInfo | undefined,
  numeric: boolean,
): HTMLTableCellElement {
  if (column === "status") {
    const status = row.values.status;
    return h("td", { "data-column": column }, statusBadge(typeof status === "string" ? status : row.status));
  }
  const cell = formatCell(row.values[column], info);
  const mono = column === "run_id" || column === "parent_run_id" ? ["nbt-mono"] : [];
  const classes = cellClasses(column, numeric, `nbt-cell-${cell.kind}`, ...mono);
  return h("td", { class: classes, title: cell.title, "data-column": column }, cell.text);
}

function bodyRow(
  row: TableRow,
  columns: readonly string[],
  info: Map<string, ColumnInfo>,
  numeric: ReadonlySet<string>,
): HTMLTableRowElement {
  const checkbox = h("input", { type: "checkbox", tabindex: -1, "aria-label": `select run ${row.run_id}` });
  // The status column may be hidden: its dot then stays beside the checkbox, so it is always seen.
  const dot = columns.includes("status") ? null : statusBadge(row.status, true);
  return h(
    "tr",
    { class: "nbt-row", tabindex: 0, "data-run-id": row.run_id, "data-nbt-key": `row:${row.run_id}` },
    h("td", { class: "nbt-select nbt-pin" }, checkbox, dot),
    ...columns.map((column) => valueCell(row, column, info.get(column), numeric.has(column))),
  );
}

function emptyRow(model: Model, width: number): HTMLTableRowElement {
  const text = (model.get("filter") ?? "") === "" ? "no runs yet" : "no runs match the filter";
  return h("tr", {}, h("td", { class: "nbt-empty", colspan: width }, text));
}

function rowOf(target: EventTarget | null): HTMLTableRowElement | null {
  return target instanceof Element ? target.closest<HTMLTableRowElement>("tr[data-run-id]") : null;
}

/** Click and keyboard selection on the body, attached once (rows come and go). */
function selectRowsOnInput(model: Model, body: HTMLTableSectionElement): void {
  const toggle = (row: HTMLTableRowElement): void => {
    save(model, "selected", toggleId(model.get("selected") ?? [], row.dataset.runId ?? ""));
  };
  body.addEventListener("click", (event) => {
    const row = rowOf(event.target);
    // Dragging over text to copy it ends in a click: that is not a request to select.
    if (!row || (window.getSelection()?.toString() ?? "") !== "") return;
    toggle(row);
  });
  body.addEventListener("keydown", (event) => {
    const row = rowOf(event.target);
    if (!row || event.target !== row) return;
    if (event.key === " " || event.key === "Enter") toggle(row);
    else if (event.key === "ArrowDown") (row.nextElementSibling as HTMLElement | null)?.focus();
    else if (event.key === "ArrowUp") (row.previousElementSibling as HTMLElement | null)?.focus();
    else return;
    event.preventDefault(); // Space would scroll the page
  });
}

/**
 * Keeps `--nbt-pin-left` on `table` at the width of the selection column that `track` is given
 * (its header cell, anew at each render): the pinned name column starts there. That width
 * depends on the fonts and on whether the rows show their status dot, so it is measured.
 */
function pinnedNameOffset(table: HTMLTableElement): { track: (cell: HTMLElement) => void; stop: () => void } {
  const observer = new ResizeObserver((entries) => {
    for (const entry of entries) {
      table.style.setProperty("--nbt-pin-left", `${entry.target.getBoundingClientRect().width}px`);
    }
  });
  return {
    track: (cell) => {
      observer.disconnect();
      observer.observe(cell);
    },
    stop: () => observer.disconnect(),
  };
}

function runGrid(model: Model): Part<HTMLDivElement> & { updateSelection: () => void; stop: () => void } {
  const head = h("thead");
  const body = h("tbody");
  const table = h("table", { class: "nbt-grid", role: "grid", "aria-multiselectable": "true" }, head, body);
  const pin = pinnedNameOffset(table);
  let headerCheckbox = pageCheckbox(model);
  selectRowsOnInput(model, body);

  const updateSelection = (): void => {
    const selected = model.get("selected") ?? [];
    const chosen = new Set(selected);
    for (const row of Array.from(body.querySelectorAll<HTMLTableRowElement>("tr[data-run-id]"))) {
      const on = chosen.has(row.dataset.runId ?? "");
      row.setAttribute("aria-selected", String(on));
      const checkbox = row.querySelector<HTMLInputElement>("input[type=checkbox]");
      if (checkbox) checkbox.checked = on;
    }
    const state = pageSelection(
      selected,
      (model.get("_rows") ?? []).map((row) => row.run_id),
    );
    headerCheckbox.checked = state === "all";
    headerCheckbox.indeterminate = state === "some";
    headerCheckbox.disabled = (model.get("_rows") ?? []).length === 0;
  };

  const update = (): void => {
    const columns = model.get("columns") ?? [];
    const rows = model.get("_rows") ?? [];
    const info = columnInfo(model);
    const numeric = numericColumns(columns, rows);
    keepingFocus(table, () => {
      headerCheckbox = pageCheckbox(model);
      const headers = columns.map((column) => headerCell(model, column, info, numeric.has(column)));
      const selectHeader = h("th", { class: "nbt-select nbt-pin", scope: "col" }, headerCheckbox);
      head.replaceChildren(h("tr", {}, selectHeader, ...headers));
      pin.track(selectHeader);
      const bodyRows = rows.map((row) => bodyRow(row, columns, info, numeric));
      body.replaceChildren(...(rows.length > 0 ? bodyRows : [emptyRow(model, columns.length + 1)]));
    });
    updateSelection();
  };
  update();
  return { el: h("div", { class: "nbt-scroll" }, table), update, updateSelection, stop: pin.stop };
}

// --- pager ----------------------------------------------------------------------------------

function pageSizeSelect(model: Model): HTMLSelectElement {
  const select = h("select", { "aria-label": "rows per page", class: "nbt-select-input" });
  select.addEventListener("change", () => saveFromFirstPage(model, "page_size", Number(select.value)));
  return select;
}

function pager(model: Model): Part<HTMLDivElement> {
  const previous = h("button", { type: "button", class: "nbt-button" }, "‹ Prev");
  const next = h("button", { type: "button", class: "nbt-button" }, "Next ›");
  const label = h("span", { class: "nbt-pager-label", "aria-live": "polite" });
  const sizes = pageSizeSelect(model);
  const go = (offset: number): void => save(model, "offset", offset);
  previous.addEventListener("click", () => go(previousOffset(model.get("offset"), model.get("page_size"))));
  next.addEventListener("click", () =>
    go(nextOffset(model.get("offset"), model.get("page_size"), model.get("_total"))),
  );

  const update = (): void => {
    const offset = model.get("offset") ?? 0;
    const pageSize = model.get("page_size") ?? 0;
    const total = model.get("_total") ?? 0;
    label.textContent = rowsLabel(offset, (model.get("_rows") ?? []).length, total);
    previous.disabled = offset <= 0;
    next.disabled = nextOffset(offset, pageSize, total) === offset;
    const choices = PAGE_SIZES.includes(pageSize) ? PAGE_SIZES : [...PAGE_SIZES, pageSize].sort((a, b) => a - b);
    sizes.replaceChildren(
      ...choices.map((size) => h("option", { value: size, selected: size === pageSize }, `${size} / page`)),
    );
    sizes.value = String(pageSize);
  };
  update();
  return { el: h("div", { class: "nbt-pager" }, previous, label, next, sizes), update };
}

// --- widget ---------------------------------------------------------------------------------

function render({ model, el }: RenderProps<RunTableModel>): () => void {
  const filter = filterBox(
    model,
    { placeholder: "filter, e.g. metrics.acc > 0.9 and params.lr < 0.01", label: "filter runs" },
    (text) => saveFromFirstPage(model, "filter", text),
  );
  const error = filterError(model);
  const chooser = columnChooser(model);
  const grid = runGrid(model);
  const pages = pager(model);
  const root = widgetRoot("table");
  root.append(h("div", { class: "nbt-toolbar" }, filter.el, chooser.button), error.el, chooser.el, grid.el, pages.el);
  el.append(root);

  const stops = [
    grid.stop,
    onChanges(model, ["filter"], filter.update),
    onChanges(model, ["_filter_error"], error.update),
    onChanges(model, ["_all_columns", "columns"], batched(chooser.update)),
    onChanges(model, ["_rows", "columns", "_all_columns", "sort"], batched(grid.update)),
    onChanges(model, ["selected"], grid.updateSelection),
    onChanges(model, ["offset", "page_size", "_total", "_rows"], batched(pages.update)),
  ];
  return () => {
    for (const stop of stops) stop();
    root.remove();
  };
}

export default { render };
