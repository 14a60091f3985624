/**
 * The bundle of the two widgets that draw with Vega, MetricPlot and Compare: Vega is most of
 * its size, so it ships (and loads) once for both. The model's `_view` says which to draw.
 */

import type { RenderProps } from "@anywidget/types";
import compare from "./compare";
import type { ChartsModel, CompareModel, MetricPlotModel } from "./models";
import plot from "./plot";

function render(props: RenderProps<ChartsModel>): () => void {
  if (props.model.get("_view") === "compare") {
    return compare.render(props as unknown as RenderProps<CompareModel>);
  }
  return plot.render(props as unknown as RenderProps<MetricPlotModel>);
}

export default { render };
