/**
 * Pure helpers for the run table's two-way state: selection, sort keys, visible columns and
 * paging. Each returns a new array (the model must see a new value to send it).
 */

import type { ColumnGroup, SortKey } from "./models";

/** `ids` with `id` removed if present, else appended; the order of the others is kept. */
export function toggleId(ids: readonly string[], id: string): string[] {
  return ids.includes(id) ? ids.filter((other) => other !== id) : [...ids, id];
}

/** Select (`on`) or deselect every id of the page, leaving selections on other pages alone. */
export function setPageSelected(selected: readonly string[], pageIds: readonly string[], on: boolean): string[] {
  if (!on) return selected.filter((id) => !pageIds.includes(id));
  return [...selected, ...pageIds.filter((id) => !selected.includes(id))];
}

export type PageSelection = "none" | "some" | "all";

/** How much of the page is selected: drives the header checkbox (checked/indeterminate). */
export function pageSelection(selected: readonly string[], pageIds: readonly string[]): PageSelection {
  const count = pageIds.filter((id) => selected.includes(id)).length;
  if (count === 0) return "none";
  return count === pageIds.length ? "all" : "some";
}

/** Metrics sort best-first by default (most are scores or losses read from the top). */
export function firstDescending(group: ColumnGroup | undefined): boolean {
  return group === "metrics";
}

/**
 * The sort after a click on `column`'s header. Each column cycles
 * none -> first direction -> the other direction -> none.
 * A plain click makes `column` the only key; `additive` (shift-click) keeps the other keys and
 * adds `column` as the last one, or cycles it in place.
 */
export function nextSort(
  sort: readonly SortKey[],
  column: string,
  group: ColumnGroup | undefined,
  additive: boolean,
): SortKey[] {
  const first = firstDescending(group);
  const index = sort.findIndex((key) => key.column === column);
  const others = additive ? sort.filter((key) => key.column !== column) : [];
  if (index < 0) return [...others, { column, descending: first }];
  const current = sort[index];
  if (current.descending !== first) return others; // third click: removed
  const flipped = { column, descending: !first };
  if (!additive) return [flipped];
  return sort.map((key, i) => (i === index ? flipped : key));
}

/** `columns` with `name` shown (appended at the end) or hidden. */
export function setColumnVisible(columns: readonly string[], name: string, visible: boolean): string[] {
  if (!visible) return columns.filter((column) => column !== name);
  return columns.includes(name) ? [...columns] : [...columns, name];
}

/** What the column chooser lists of one group's columns: those whose name contains `query`
 * (any case), shown ones first, at most `limit` of them, and how many more match. */
export function chooserColumns(
  names: readonly string[],
  query: string,
  shown: ReadonlySet<string>,
  limit: number,
): { names: string[]; more: number } {
  const needle = query.trim().toLowerCase();
  const matching = needle ? names.filter((name) => name.toLowerCase().includes(needle)) : [...names];
  const ordered = [...matching.filter((n) => shown.has(n)), ...matching.filter((n) => !shown.has(n))];
  return { names: ordered.slice(0, limit), more: Math.max(0, ordered.length - limit) };
}

/** The offset of the previous page (never below 0). */
export function previousOffset(offset: number, pageSize: number): number {
  return Math.max(0, offset - pageSize);
}

/** The offset of the next page, or the same offset when this is the last page. */
export function nextOffset(offset: number, pageSize: number, total: number): number {
  return offset + pageSize < total ? offset + pageSize : offset;
}
