/**
 * MetricPlot: metric curves with a toolbar (smoothing, log y, x axis, show all). Python owns the
 * spec and the points; the browser smooths, zooms, and sends back the toolbar's choices and the
 * range shown.
 */

import type { AnyModel, RenderProps } from "@anywidget/types";
import { mountCurves } from "./chart";
import { type Part, h, onChanges, save, traitCheckbox, widgetRoot } from "./dom";
import type { MetricPlotModel, XAxis } from "./models";
import { snapshots } from "./snapshot";

type Model = AnyModel<MetricPlotModel>;

const X_AXES: ReadonlyArray<{ value: XAxis; label: string }> = [
  { value: "step", label: "step" },
  { value: "time", label: "wall time" },
  { value: "relative", label: "relative time" },
];

/** The x axis: Python sends new points and spec for it. */
function xSelect(model: Model): Part<HTMLLabelElement> {
  const select = h(
    "select",
    { class: "nbt-select-input" },
    ...X_AXES.map(({ value, label }) => h("option", { value }, label)),
  );
  const update = (): void => {
    select.value = model.get("x") ?? "step";
  };
  select.addEventListener("change", () => save(model, "x", select.value as XAxis));
  update();
  return { el: h("label", { class: "nbt-option" }, "x", select), update };
}

function render({ model, el }: RenderProps<MetricPlotModel>): () => void {
  const root = widgetRoot("plot");
  const snaps = snapshots(model, root, () => [[curves.chart]]);
  const curves = mountCurves(model, snaps.schedule);
  // Python rebuilds `_spec` with a log scale, which re-embeds the chart.
  const log = traitCheckbox(model, "log_y", "log y");
  const x = xSelect(model);
  root.append(h("div", { class: "nbt-toolbar" }, curves.slider, log.el, x.el, curves.reset), curves.chart);
  el.append(root);

  const stops = [onChanges(model, ["log_y"], log.update), onChanges(model, ["x"], x.update)];
  return () => {
    for (const stop of stops) stop();
    snaps.dispose();
    curves.dispose();
    root.remove();
  };
}

export default { render };
