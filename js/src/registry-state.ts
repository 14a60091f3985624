/**
 * The model registry widget's synced traits (named as nbtrack/widgets/registry.py declares
 * them) and the pure pieces of its view: version keys, `models:/` URIs, stage kinds, labels.
 */

import type { VersionDetail } from "./models";

/** The `selected` value of a version: "name/version". */
export function versionKey(name: string, version: number): string {
  return `${name}/${version}`;
}

/** A `selected` value split into its model name and version (names may hold "/"); null for "". */
export function parseVersionKey(key: string): { name: string; version: number } | null {
  const cut = key.lastIndexOf("/");
  if (cut <= 0) return null;
  const version = Number(key.slice(cut + 1));
  return Number.isInteger(version) && version > 0 ? { name: key.slice(0, cut), version } : null;
}

/** What `selected` becomes after a click on version `key`: a second click deselects it. */
export function clickedVersion(selected: string, key: string): string {
  return selected === key ? "" : key;
}

/** The URIs that load a version: by number, then by each of its aliases. */
export function versionUris(name: string, version: number, aliases: readonly string[]): string[] {
  return [`models:/${name}/${version}`, ...[...aliases].sort().map((alias) => `models:/${name}@${alias}`)];
}

export type StageKind = "none" | "staging" | "production" | "archived";

/** The colour class of a stage chip (stages are matched in any case, as the registry takes them). */
export function stageKind(stage: string): StageKind {
  const lower = stage.toLowerCase();
  return lower === "staging" || lower === "production" || lower === "archived" ? lower : "none";
}

/** A model's aliases as "@alias" labels with their version, sorted by alias. */
export function aliasLabels(aliases: Record<string, number>): Array<{ alias: string; version: number }> {
  return Object.entries(aliases)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([alias, version]) => ({ alias, version }));
}

/** Entries of a record sorted by key, for the detail's params and metrics. */
export function sortedEntries<V>(record: Record<string, V>): Array<[string, V]> {
  return Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** The line under the models: how many there are, or why there are none. */
export function modelsLabel(count: number, filter: string): string {
  if (count > 0) return count === 1 ? "1 registered model" : `${count} registered models`;
  if (filter.trim() !== "") return "no registered models match the filter";
  return "no registered models yet: register one with nbtrack.register_model(model_uri, name)";
}

/** The row to focus after an arrow key: the next or previous row of `rows`, or null at an end. */
export function neighbour<T>(rows: readonly T[], current: T, key: string): T | null {
  const index = rows.indexOf(current);
  if (index < 0) return null;
  if (key === "ArrowDown") return rows[index + 1] ?? null;
  if (key === "ArrowUp") return rows[index - 1] ?? null;
  return null;
}

/** Whether `_detail` holds a version (it is {} when none is selected). */
export function isDetail(detail: VersionDetail | Record<string, never> | undefined): detail is VersionDetail {
  return detail !== undefined && typeof detail.name === "string";
}
