/**
 * The filter box and its error line, shared by the widgets that filter with the typed grammar
 * (the run table, the model registry): Enter applies, Escape reverts, and an edit not applied
 * yet shows as pending.
 */

import type { AnyModel } from "@anywidget/types";
import { type Part, h } from "./dom";

/** The traits a filtering widget syncs: the applied filter and the error it gave, if any. */
export interface FilterTraits {
  filter: string;
  _filter_error: string;
}

/**
 * The filter box, built once: re-renders never replace it, so typing keeps focus and caret.
 * `apply` saves the text the user confirmed with Enter.
 */
export function filterBox<T extends FilterTraits>(
  model: AnyModel<T>,
  what: { placeholder: string; label: string },
  apply: (text: string) => void,
): Part<HTMLInputElement> {
  const applied = (): string => (model.get("filter") as string | undefined) ?? "";
  const input = h("input", {
    type: "text",
    class: "nbt-filter",
    placeholder: what.placeholder,
    "aria-label": `${what.label} (Enter applies, Escape reverts)`,
    title: "Enter applies the filter, Escape reverts to the applied one",
    spellcheck: "false",
    autocomplete: "off",
  });
  const markPending = (): void => {
    input.classList.toggle("nbt-pending", input.value !== applied());
  };
  input.addEventListener("input", markPending);
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter") {
      event.preventDefault();
      apply(input.value);
    } else if (event.key === "Escape") {
      input.value = applied();
    }
    markPending();
  });
  const update = (): void => {
    // Never overwrite what the user is typing; a pending edit shows as such instead.
    if (document.activeElement !== input) input.value = applied();
    markPending();
  };
  update();
  return { el: input, update };
}

/** The last filter's error, under the box (a <pre>: the caret line stays under its character). */
export function filterError<T extends FilterTraits>(model: AnyModel<T>): Part<HTMLPreElement> {
  const el = h("pre", { class: "nbt-error", role: "alert" });
  const update = (): void => {
    const message = (model.get("_filter_error") as string | undefined) ?? "";
    el.textContent = message;
    el.hidden = message === "";
  };
  update();
  return { el, update };
}
