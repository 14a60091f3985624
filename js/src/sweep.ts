/**
 * The sweep view of Compare: a parallel-coordinates chart (one axis per param drawn, then the
 * chosen metric; one line per run, coloured by the metric, best brightest) and a scatter of one
 * param against the metric. Dragging along an axis, or a box across the scatter, brushes; the
 * runs inside every brush become the model's `selected`.
 *
 * Wide and big sweeps stay readable and quick (see sweep-pick.ts): only the params most related
 * to the metric get an axis unless the model's `axes` names others; past LINE_BUDGET runs a
 * sample is drawn, and said so (brushing counts every run). Past SVG_LINES runs drawn, the
 * parallel chart's lines go on a canvas under its SVG, which keeps the axes and brushes, and the
 * scatter's dots become one path per colour; the line or dot under the pointer is then drawn
 * again in SVG, with its tooltip.
 */

import type { AnyModel } from "@anywidget/types";
import { type Brushes, brushedRuns, keyedBrush, sameIds } from "./brush";
import { type Mounted, h, keepingFocus, onChanges, perFrame, save } from "./dom";
import type { BinaryTrait, CompareModel, SweepContent } from "./models";
import { axesChooser } from "./sweep-chooser";
import { type Layout, type Zones, layoutOf, metricTitle, shownRuns } from "./sweep-layout";
import type { Point } from "./sweep-marks";
import { parallelChart } from "./sweep-parallel";
import { rhoText } from "./sweep-pick";
import { scatterChart } from "./sweep-scatter";

type Model = AnyModel<CompareModel>;

/** `_sweep` arrives as a buffer of JSON (Python's `json_buffer`): decoded once per value. */
const decoded = new WeakMap<object, Partial<SweepContent>>();

function sweepOf(model: Model): SweepContent | null {
  const raw = model.get("_sweep") as BinaryTrait | Partial<SweepContent>;
  let value: Partial<SweepContent> | undefined;
  if (raw instanceof ArrayBuffer || ArrayBuffer.isView(raw)) {
    value = decoded.get(raw);
    if (value === undefined) {
      value = JSON.parse(new TextDecoder().decode(raw)) as Partial<SweepContent>;
      decoded.set(raw, value);
    }
  } else {
    value = raw ?? undefined;
  }
  if (!value?.runs || value.runs.length === 0) return null;
  return { runs: value.runs, params: value.params ?? [], constant: value.constant ?? [], metrics: value.metrics ?? [] };
}

function select(
  label: string,
  options: Array<{ value: string; text: string }>,
  value: string,
  onChange: (value: string) => void,
): HTMLLabelElement {
  const input = h(
    "select",
    { class: "nbt-select-input", "data-nbt-key": `sweep:${label}` },
    ...options.map((o) => h("option", { value: o.value }, o.text)),
  );
  input.value = value;
  input.addEventListener("change", () => onChange(input.value));
  return h("label", { class: "nbt-option" }, label, input);
}

function correlationText(value: number | null | undefined): string {
  const rho = rhoText(value);
  return rho ? ` (${rho})` : "";
}

/** The sweep view, wired to the model's `_sweep`, `metric`, `param`, `axes` and `selected`. */
export function mountSweep(model: Model): Mounted {
  const tools = h("span", { class: "nbt-sweep-tools" });
  const count = h("span", { class: "nbt-sweep-count", role: "status" });
  const clear = h("button", { class: "nbt-button", type: "button", "data-nbt-key": "sweep:clear" }, "clear selection");
  clear.addEventListener("click", () => commit(new Map()));
  const constant = h("span", { class: "nbt-muted" });
  const toolbar = h("div", { class: "nbt-toolbar" }, tools, count, clear, constant);
  const chooser = axesChooser(model);
  const views = h("div", { class: "nbt-sweep-views" });
  const el = h("section", { class: "nbt-sweep" }, toolbar, chooser.panel, views);
  let brushes: Brushes = new Map();
  /** What this view last sent as `selected`, to tell our own change from Python's. */
  let sent: string[] = model.get("selected") ?? [];
  let width = 0;
  let zones: Zones = new Map();
  let dragging = false;
  let cached: { key: unknown[]; layout: Layout | null } | null = null;
  let toolsOf: Layout | null = null;

  /** The sweep's layout (null without runs), made again only when what it depends on changed. */
  const currentLayout = (): Layout | null => {
    const key = (["_sweep", "metric", "param", "axes"] as const).map((name) => model.get(name));
    if (cached === null || key.some((value, i) => value !== cached?.key[i])) {
      const content = sweepOf(model);
      const choice = {
        metric: model.get("metric") ?? "",
        param: model.get("param") ?? "",
        axes: model.get("axes") ?? [],
      };
      cached = { key, layout: content && layoutOf(content, choice) };
    }
    return cached.layout;
  };

  const chosenIndices = (layout: Layout, current: Brushes): number[] => {
    if (current.size > 0) return brushedRuns(layout.brushable, current, layout.ids.length);
    const wanted = new Set(model.get("selected") ?? []);
    return layout.ids.flatMap((id, i) => (wanted.has(id) ? [i] : []));
  };

  const draw = (preview?: Brushes): void => {
    const layout = currentLayout();
    el.hidden = layout === null;
    if (layout === null) return;
    const current = preview ?? brushes;
    const shown = shownRuns(layout, new Set(chosenIndices(layout, current)));
    zones = new Map();
    const parallel = parallelChart(layout, shown, current, width, zones, el);
    const scatter = scatterChart(layout, shown, current, zones);
    views.replaceChildren(parallel, ...(scatter ? [scatter] : []));
    const chosen = shown.chosen.size;
    drawToolbar(layout, chosen, current.size > 0 || chosen > 0);
  };
  const previewPerFrame = perFrame((next: Brushes) => {
    if (dragging) draw(next);
  });

  // The listeners sit on the views, which outlive the charts that every move redraws.
  // The keyboard's way to brush: a focused axis takes the arrow keys (see keyedBrush).
  views.addEventListener("keydown", (event: KeyboardEvent) => {
    const zone = event.target instanceof Element ? event.target.closest("[data-nbt-key^='axis:']") : null;
    const key = zone?.getAttribute("data-nbt-drag");
    if (!key) return;
    const next = keyedBrush(brushes.get(key), event.key, event.shiftKey);
    if (next === undefined) return;
    event.preventDefault();
    const updated = new Map(brushes);
    if (next === null) updated.delete(key);
    else updated.set(key, next);
    keepingFocus(views, () => commit(updated));
  });

  views.addEventListener("pointerdown", (down: PointerEvent) => {
    const target = down.target instanceof Element ? down.target.closest("[data-nbt-drag]") : null;
    const chart = target?.closest("svg");
    const zone = zones.get(target?.getAttribute("data-nbt-drag") ?? "");
    if (down.button !== 0 || !chart || !zone) return;
    down.preventDefault();
    const box = chart.getBoundingClientRect();
    const local = (event: PointerEvent): Point => ({ x: event.clientX - box.left, y: event.clientY - box.top });
    const [from, base] = [local(down), brushes];
    dragging = true;
    views.setPointerCapture(down.pointerId);
    const onMove = (event: PointerEvent): void => previewPerFrame(zone(base, from, local(event)));
    const onUp = (event: PointerEvent): void => {
      dragging = false;
      views.removeEventListener("pointermove", onMove);
      views.removeEventListener("pointerup", onUp);
      views.removeEventListener("pointercancel", onUp);
      commit(zone(base, from, local(event)));
    };
    views.addEventListener("pointermove", onMove);
    views.addEventListener("pointerup", onUp);
    views.addEventListener("pointercancel", onUp);
  });

  /** The toolbar: its count and button brought up to date, its controls made again for a new layout. */
  const drawToolbar = (layout: Layout, chosen: number, clearable: boolean): void => {
    const { content } = layout;
    count.textContent = `${chosen} of ${content.runs.length} runs selected`;
    clear.disabled = !clearable;
    if (layout === toolsOf) return;
    toolsOf = layout;
    const metric = model.get("metric") ?? "";
    const metrics = content.metrics.map((m) => ({ value: m.key, text: metricTitle(m) }));
    const params = content.params.map((p) => ({
      value: p.key,
      text: `${p.key}${correlationText(p.correlation[metric])}`,
    }));
    const same = content.constant.length;
    constant.hidden = same === 0;
    constant.title = content.constant.join(", ");
    constant.textContent = `${same} param${same === 1 ? "" : "s"} the same in every run`;
    const axes = params.length > 0 ? [chooser.update(content.params, layout.params, metric)] : [];
    keepingFocus(tools, () =>
      tools.replaceChildren(
        h("h4", { class: "nbt-heading" }, "sweep"),
        ...(metrics.length > 0 ? [select("metric", metrics, metric, (v) => save(model, "metric", v))] : []),
        ...(params.length > 0 ? [select("x", params, model.get("param") ?? "", (v) => save(model, "param", v))] : []),
        ...axes,
      ),
    );
  };

  const send = (ids: string[]): void => {
    sent = ids;
    save(model, "selected", ids);
  };

  const commit = (next: Brushes): void => {
    brushes = next;
    const layout = currentLayout();
    if (layout && next.size > 0) {
      const ids = brushedRuns(layout.brushable, next, layout.ids.length).map((i) => layout.ids[i]);
      if (!sameIds(ids, model.get("selected") ?? [])) send(ids);
    } else if (next.size === 0 && (model.get("selected") ?? []).length > 0) {
      send([]);
    }
    draw();
  };

  const onSelected = (): void => {
    const ids = model.get("selected") ?? [];
    if (sameIds(ids, sent)) return;
    sent = ids;
    brushes = new Map(); // chosen in Python (or another view): show that instead of brushes
    draw();
  };

  // Live refreshes bring new runs: a brush keeps its range and takes in those inside it. A
  // brush on an axis no longer shown (another metric or other axes chosen) stops counting.
  const onContent = (): void => (brushes.size > 0 ? commit(brushes) : draw());

  const resize = new ResizeObserver(
    perFrame(() => {
      const next = el.clientWidth;
      if (next > 0 && Math.abs(next - width) > 8) {
        width = next;
        draw();
      }
    }),
  );
  resize.observe(el);
  // A canvas' colours are fixed when it is drawn: draw again when JupyterLab switches theme.
  const theme = new MutationObserver(() => draw());
  theme.observe(document.body, { attributeFilter: ["data-jp-theme-light", "data-jp-theme-name"] });
  const stops = [
    onChanges(model, ["_sweep"], onContent),
    onChanges(model, ["metric", "param", "axes"], onContent),
    onChanges(model, ["selected"], onSelected),
  ];
  draw();
  return {
    el,
    dispose: () => {
      resize.disconnect();
      theme.disconnect();
      for (const stop of stops) stop();
    },
  };
}
