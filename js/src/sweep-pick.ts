/**
 * What the sweep view draws of a big sweep, without the DOM: which params get an axis and which
 * runs get a line. By default the axes are the DEFAULT_AXES params most related to the metric,
 * by the same rule as the image of a saved notebook (nbtrack/widgets/sweep.py `bounded()`);
 * past LINE_BUDGET runs, a fixed sample of them is drawn (brushing still counts every run).
 */

import type { SweepParam } from "./models";

/** Param axes by default (Python's STATIC_AXES). */
export const DEFAULT_AXES = 8;
/** The most lines drawn, beyond the runs that must be (see sampledRuns). */
export const LINE_BUDGET = 1000;
/** Past the budget, the best runs by the metric that are always drawn. */
export const BEST_KEPT = 100;
/** The most lines drawn as SVG paths (each with its tooltip); more go on a canvas. */
export const SVG_LINES = 300;

/** How strongly a param relates to `metric`: |Spearman's ρ|, 0 when undefined. */
export function strength(param: SweepParam, metric: string): number {
  const rho = param.correlation?.[metric];
  return typeof rho === "number" && Number.isFinite(rho) ? Math.abs(rho) : 0;
}

/** The params, the most related to `metric` first (ties keep their order). */
export function byStrength(params: readonly SweepParam[], metric: string): SweepParam[] {
  return [...params].sort((a, b) => strength(b, metric) - strength(a, metric));
}

/** The params named in `wanted`, in their order (names of no param are ignored). */
export function namedParams(params: readonly SweepParam[], wanted: readonly string[]): SweepParam[] {
  const named = new Set(wanted);
  return params.filter((param) => named.has(param.key));
}

/**
 * The params that get an axis, in their order: those named in `wanted` or, when it names none
 * of them (as the empty list), the DEFAULT_AXES most related to `metric`.
 */
export function shownParams(params: readonly SweepParam[], metric: string, wanted: readonly string[]): SweepParam[] {
  const picked = namedParams(params, wanted);
  if (picked.length > 0) return picked;
  const strongest = new Set(byStrength(params, metric).slice(0, DEFAULT_AXES));
  return params.filter((param) => strongest.has(param));
}

/** The keys of the axes once `key` is shown (`on`) or hidden, in the params' order. */
export function toggledAxes(
  params: readonly SweepParam[],
  shown: readonly SweepParam[],
  key: string,
  on: boolean,
): string[] {
  const keys = new Set(shown.map((param) => param.key));
  if (on) keys.add(key);
  else keys.delete(key);
  return params.filter((param) => keys.has(param.key)).map((param) => param.key);
}

/** "ρ +0.52", or "" when undefined. */
export function rhoText(value: number | null | undefined): string {
  return typeof value === "number" ? `ρ ${value >= 0 ? "+" : "−"}${Math.abs(value).toFixed(2)}` : "";
}

/** The `count` best runs by their shade (1 the best); runs without one never count. */
export function bestRuns(shade: ReadonlyArray<number | null>, count: number): number[] {
  const shaded = shade.flatMap((t, i) => (t === null ? [] : [{ i, t }]));
  return shaded
    .sort((a, b) => b.t - a.t)
    .slice(0, count)
    .map(({ i }) => i);
}

/**
 * A fixed, well-spread number for a run id: FNV-1a, then MurmurHash3's finaliser (ids that
 * differ in their last character would otherwise differ in their low bits only).
 */
function idHash(id: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) hash = Math.imul(hash ^ id.charCodeAt(i), 0x01000193);
  hash = Math.imul(hash ^ (hash >>> 16), 0x85ebca6b);
  hash = Math.imul(hash ^ (hash >>> 13), 0xc2b2ae35);
  return (hash ^ (hash >>> 16)) >>> 0;
}

/** Each list of ids' indices in the order of their hashes (a live refresh sends a new list). */
const hashOrders = new WeakMap<readonly string[], number[]>();

function hashOrder(ids: readonly string[]): number[] {
  let order = hashOrders.get(ids);
  if (!order) {
    const hashes = ids.map(idHash);
    order = ids.map((_, i) => i).sort((a, b) => hashes[a] - hashes[b] || a - b);
    hashOrders.set(ids, order);
  }
  return order;
}

/**
 * The runs that get a line (indices, ascending): all of them within `budget`; past it, every
 * run of `keep` and as many others as the budget leaves room for, picked by a hash of their id,
 * so that the same runs are drawn each time and a live refresh swaps few of them.
 */
export function sampledRuns(ids: readonly string[], budget: number, keep: Iterable<number>): number[] {
  if (ids.length <= budget) return ids.map((_, i) => i);
  const kept = new Set(keep);
  const room = Math.max(0, budget - kept.size);
  const others: number[] = [];
  for (const i of hashOrder(ids)) {
    if (others.length >= room) break;
    if (!kept.has(i)) others.push(i);
  }
  return [...kept, ...others].sort((a, b) => a - b);
}
