/** Small DOM and model helpers shared by the widgets. */

import type { AnyModel } from "@anywidget/types";

/**
 * The trait map of a model, as anywidget's AnyModel constrains it: interfaces (without index
 * signatures) satisfy `Record<string, any>` but not `Record<string, unknown>`.
 */
type Traits = Record<string, any>;

type AttrValue = string | number | boolean | null | undefined;
type Child = Node | string | null | undefined | false;

/** A part of a widget: its element and how to bring it up to date with the model. */
export interface Part<E extends HTMLElement = HTMLElement> {
  el: E;
  update: () => void;
}

/** A self-contained part of a widget: its element and what stops it listening. */
export interface Mounted<E extends HTMLElement = HTMLElement> {
  el: E;
  dispose: () => void;
}

// --- elements -------------------------------------------------------------------------------

/**
 * An element with attributes and children. `true` sets an empty attribute; `false`, null and
 * undefined leave it out, as they do children. Properties such as `checked` are set by the
 * caller, since they are not attributes.
 */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, AttrValue> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === false || value === null || value === undefined) continue;
    el.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children) {
    if (child !== null && child !== undefined && child !== false) el.append(child);
  }
  return el;
}

/**
 * The root element of a widget. `data-lm-suppress-shortcuts` tells JupyterLab (4.1+) not to read
 * keys pressed inside it as notebook shortcuts: without it, Space or "a" on a focused row or
 * button would act on the cell (insert, delete, run) instead of the widget.
 */
export function widgetRoot(kind: string): HTMLDivElement {
  return h("div", { class: `nbt-root nbt-${kind}`, "data-lm-suppress-shortcuts": "true" });
}

let idCounter = 0;

/** An id unique in the page, for aria-controls (several widgets may be shown at once). */
export function uniqueId(prefix: string): string {
  idCounter += 1;
  return `${prefix}-${idCounter}`;
}

/**
 * Rebuild part of a widget without losing keyboard focus: elements that can hold focus carry a
 * `data-nbt-key`; the one focused before `rebuild` gets focus back afterwards.
 */
export function keepingFocus(root: HTMLElement, rebuild: () => void): void {
  const active = (root.getRootNode() as Document | ShadowRoot).activeElement;
  const focusable = active instanceof HTMLElement || active instanceof SVGElement ? active : null;
  const key = focusable && root.contains(focusable) ? focusable.dataset.nbtKey : undefined;
  rebuild();
  if (key === undefined || focusable?.isConnected) return;
  const again = Array.from(root.querySelectorAll<HTMLElement | SVGElement>("[data-nbt-key]")).find(
    (el) => el.dataset.nbtKey === key,
  );
  again?.focus();
}

const KNOWN_STATUSES = new Set(["running", "finished", "failed", "crashed", "interrupted", "killed"]);

/** A run's status: a coloured dot (pulsing while running), with the word unless `dotOnly`. */
export function statusBadge(status: string, dotOnly = false): HTMLSpanElement {
  const kind = KNOWN_STATUSES.has(status) ? status : "other";
  return h(
    "span",
    { class: `nbt-status nbt-status-${kind}`, title: dotOnly ? status : undefined },
    h("span", { class: "nbt-dot", "aria-hidden": "true" }),
    dotOnly ? h("span", { class: "nbt-sr-only" }, status) : status,
  );
}

// --- model ----------------------------------------------------------------------------------

/** Call `callback` on a change of any of `names`; returns what stops listening. */
export function onChanges<T extends Traits>(
  model: AnyModel<T>,
  names: ReadonlyArray<keyof T & string>,
  callback: () => void,
): () => void {
  for (const name of names) model.on(`change:${name}`, callback);
  return () => {
    for (const name of names) model.off(`change:${name}`, callback);
  };
}

/** Set a two-way trait and send it to Python. */
export function save<T extends Traits, K extends keyof T>(model: AnyModel<T>, name: K, value: T[K]): void {
  model.set(name, value);
  model.save_changes();
}

/** A labelled checkbox bound to a two-way boolean trait ("log y", "only differences"). */
export function traitCheckbox<T extends Traits>(
  model: AnyModel<T>,
  name: keyof T & string,
  text: string,
): Part<HTMLLabelElement> {
  const input = h("input", { type: "checkbox" });
  const update = (): void => {
    input.checked = Boolean(model.get(name));
  };
  input.addEventListener("change", () => save(model, name, input.checked as T[typeof name]));
  update();
  return { el: h("label", { class: "nbt-option" }, input, text), update };
}

// --- timing ---------------------------------------------------------------------------------

/**
 * `fn` run once after the current task's change events. One message from Python that sets
 * several traits fires one change event per trait; this rebuilds once for all of them.
 */
export function batched(fn: () => void): () => void {
  let queued = false;
  return () => {
    if (queued) return;
    queued = true;
    queueMicrotask(() => {
      queued = false;
      fn();
    });
  };
}

/** `fn` run at most once per animation frame, with the latest arguments (slider previews). */
export function perFrame<A extends unknown[]>(fn: (...args: A) => void): (...args: A) => void {
  let pending: A | null = null;
  return (...args: A) => {
    const scheduled = pending !== null;
    pending = args;
    if (scheduled) return;
    requestAnimationFrame(() => {
      const latest = pending as A;
      pending = null;
      fn(...latest);
    });
  };
}
