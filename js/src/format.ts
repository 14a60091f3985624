/** Text for numbers, times and durations as the widgets show them. Pure functions. */

import type { CellValue, ColumnInfo } from "./models";

/** Attribute columns that hold an ISO date-time and a duration in seconds (see query/columns.py). */
const TIME_COLUMNS = new Set(["start_time", "end_time"]);
const DURATION_COLUMNS = new Set(["duration"]);

const SIGNIFICANT = 4;

function nonFinite(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  return value > 0 ? "∞" : "−∞";
}

/** "1.235e+6" -> "1.235e6", "1.000e-5" -> "1e-5": shorter, and as easy to read. */
function compactExponential(value: number): string {
  const [mantissa, exponent] = value.toExponential(SIGNIFICANT - 1).split("e");
  const trimmed = mantissa.includes(".") ? mantissa.replace(/\.?0+$/, "") : mantissa;
  return `${trimmed}e${exponent.replace("+", "")}`;
}

/**
 * A metric value with up to 4 significant digits; integers as they are.
 * Values from 1000 up to a million are rounded to whole numbers rather than to 4 digits, so that
 * 12345.6 reads "12346" and not "12350", which would misstate the digits the eye reads first.
 */
export function formatMetric(value: number): string {
  if (!Number.isFinite(value)) return nonFinite(value);
  if (Number.isInteger(value)) return String(value);
  const magnitude = Math.abs(value);
  if (magnitude >= 1e6 || magnitude < 1e-3) return compactExponential(value);
  if (magnitude >= 1000) return String(Math.round(value));
  return String(Number(value.toPrecision(SIGNIFICANT)));
}

/** A number given by the user (a param): its shortest exact form, so 0.0003 stays 0.0003. */
export function formatNumber(value: number): string {
  return Number.isFinite(value) ? String(value) : nonFinite(value);
}

const pad2 = (n: number): string => String(n).padStart(2, "0");

/** Seconds as "0.35 s", "1.2 s", "3 m 04 s", "2 h 05 m" or "3 d 04 h". */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return nonFinite(seconds);
  const sign = seconds < 0 ? "−" : "";
  const s = Math.abs(seconds);
  if (s < 1) return `${sign}${Number(s.toPrecision(2))} s`;
  if (Math.round(s * 10) / 10 < 60) return `${sign}${(Math.round(s * 10) / 10).toFixed(1)} s`;
  const wholeSeconds = Math.round(s);
  if (wholeSeconds < 3600) {
    return `${sign}${Math.floor(wholeSeconds / 60)} m ${pad2(wholeSeconds % 60)} s`;
  }
  const minutes = Math.round(s / 60);
  if (minutes < 24 * 60) return `${sign}${Math.floor(minutes / 60)} h ${pad2(minutes % 60)} m`;
  const hours = Math.round(s / 3600);
  return `${sign}${Math.floor(hours / 24)} d ${pad2(hours % 24)} h`;
}

/** An ISO date-time as local "YYYY-MM-DD HH:MM"; text that is not a date comes back as is. */
export function formatTimestamp(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const day = `${date.getFullYear()}-${pad2(date.getMonth() + 1)}-${pad2(date.getDate())}`;
  return `${day} ${pad2(date.getHours())}:${pad2(date.getMinutes())}`;
}

export type CellKind = "null" | "number" | "bool" | "time" | "text";

export interface FormattedCell {
  text: string;
  kind: CellKind;
  /** The full value, for a tooltip, when the text shortens it. */
  title?: string;
}

function formatNumberCell(value: number, column: ColumnInfo | undefined): FormattedCell {
  const name = column?.name ?? "";
  let text: string;
  if (DURATION_COLUMNS.has(name)) text = formatDuration(value);
  else if (column?.group === "metrics") text = formatMetric(value);
  else text = formatNumber(value);
  const full = String(value);
  return { text, kind: "number", title: text === full ? undefined : full };
}

/** How one table cell reads; `column` is undefined when the column is not known (yet). */
export function formatCell(value: CellValue | undefined, column: ColumnInfo | undefined): FormattedCell {
  if (value === null || value === undefined) return { text: "–", kind: "null" };
  if (typeof value === "boolean") return { text: String(value), kind: "bool" };
  if (typeof value === "number") return formatNumberCell(value, column);
  if (column && TIME_COLUMNS.has(column.name)) {
    return { text: formatTimestamp(value), kind: "time", title: value };
  }
  return { text: value, kind: "text", title: value.length > 40 ? value : undefined };
}

/** The pager's "rows X–Y of N" (or "no rows"). */
export function rowsLabel(offset: number, rowCount: number, total: number): string {
  if (rowCount === 0) return total === 0 ? "no rows" : `no rows here (${total} in all)`;
  return `rows ${offset + 1}–${offset + rowCount} of ${total}`;
}
