/**
 * The sweep's axis chooser: a "params: 8 of 41" button and the checklist it opens, the params
 * most related to the metric first. The choice goes to the model's `axes`; the empty list (after
 * "reset") means the default, the params most related to the metric (see sweep-pick.ts).
 */

import type { AnyModel } from "@anywidget/types";
import { h, keepingFocus, save, uniqueId } from "./dom";
import type { CompareModel, SweepParam } from "./models";
import { DEFAULT_AXES, byStrength, namedParams, rhoText, toggledAxes } from "./sweep-pick";

type Model = AnyModel<CompareModel>;

export interface AxesChooser {
  /** The checklist, hidden until the button opens it. */
  panel: HTMLDivElement;
  /** Fills the checklist for `params` of which `shown` have an axis; a new button for the toolbar. */
  update: (params: readonly SweepParam[], shown: readonly SweepParam[], metric: string) => HTMLButtonElement;
}

function axisCheckbox(
  param: SweepParam,
  metric: string,
  checked: boolean,
  last: boolean,
  onToggle: (on: boolean) => void,
): HTMLLabelElement {
  const rho = rhoText(param.correlation?.[metric]);
  const input = h("input", { type: "checkbox", disabled: last, "data-nbt-key": `sweep-axis:${param.key}` });
  input.checked = checked;
  input.addEventListener("change", () => onToggle(input.checked));
  const why = last ? " (the last axis shown)" : "";
  return h(
    "label",
    { class: "nbt-option nbt-sweep-axis", title: `${param.key}${rho ? `: ${rho} with ${metric}` : ""}${why}` },
    input,
    h("span", { class: "nbt-sweep-axis-name" }, param.key),
    h("span", { class: "nbt-muted" }, rho || "–"),
  );
}

export function axesChooser(model: Model): AxesChooser {
  const panel = h("div", { class: "nbt-sweep-axes", id: uniqueId("nbt-sweep-axes"), hidden: true });
  let button: HTMLButtonElement | null = null;
  const setOpen = (open: boolean): void => {
    panel.hidden = !open;
    button?.setAttribute("aria-expanded", String(open));
  };
  panel.addEventListener("keydown", (event) => {
    if (event.key !== "Escape") return;
    setOpen(false);
    button?.focus();
  });

  const update = (params: readonly SweepParam[], shown: readonly SweepParam[], metric: string): HTMLButtonElement => {
    const chosen = namedParams(params, model.get("axes") ?? []).length > 0;
    const on = new Set(shown);
    const reset = h(
      "button",
      { class: "nbt-button", type: "button", disabled: !chosen, "data-nbt-key": "sweep:axes-reset" },
      "reset",
    );
    reset.addEventListener("click", () => save(model, "axes", []));
    const strongest = `the ${Math.min(DEFAULT_AXES, params.length)} params most related to ${metric || "the metric"}`;
    const now = chosen ? `axes: the ${shown.length} params you chose` : `axes: ${strongest} (largest |ρ|)`;
    reset.title = `back to ${strongest}`;
    keepingFocus(panel, () =>
      panel.replaceChildren(
        h("div", { class: "nbt-sweep-axes-head" }, h("span", { class: "nbt-muted" }, now), reset),
        h(
          "div",
          { class: "nbt-sweep-axes-list" },
          ...byStrength(params, metric).map((param) =>
            axisCheckbox(param, metric, on.has(param), on.has(param) && on.size === 1, (checked) =>
              save(model, "axes", toggledAxes(params, shown, param.key, checked)),
            ),
          ),
        ),
      ),
    );
    button = h(
      "button",
      {
        class: "nbt-button",
        type: "button",
        "aria-expanded": String(!panel.hidden),
        "aria-controls": panel.id,
        "data-nbt-key": "sweep:axes",
        title: "choose the params drawn as axes",
      },
      `params: ${shown.length} of ${params.length} ▾`,
    );
    button.addEventListener("click", () => setOpen(panel.hidden));
    return button;
  };
  return { panel, update };
}
