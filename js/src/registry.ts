/**
 * ModelRegistry: the registered models, each expanding into its versions; a selected version
 * shows its detail (URIs to copy, the model's flavors and signature, the source run's params
 * and metrics). Python sends everything already read from the store; the browser edits only
 * the two-way traits (filter, expanded, selected).
 */

import type { AnyModel, RenderProps } from "@anywidget/types";
import { type Part, batched, h, keepingFocus, onChanges, save, statusBadge, widgetRoot } from "./dom";
import { filterBox, filterError } from "./filter";
import { formatCell, formatTimestamp } from "./format";
import type {
  CellValue,
  ColumnGroup,
  DetailRun,
  ModelRegistryModel,
  RegistryEntry,
  RegistryVersion,
  SchemaField,
  VersionDetail,
} from "./models";
import {
  aliasLabels,
  clickedVersion,
  isDetail,
  modelsLabel,
  neighbour,
  sortedEntries,
  stageKind,
  versionKey,
  versionUris,
} from "./registry-state";
import { toggleId } from "./state";

type Model = AnyModel<ModelRegistryModel>;

const MODEL_COLUMNS = ["name", "latest", "aliases", "description", "updated"] as const;

// --- small pieces ---------------------------------------------------------------------------

function stageChip(stage: string): HTMLSpanElement {
  return h("span", { class: `nbt-chip nbt-stage nbt-stage-${stageKind(stage)}` }, stage);
}

function aliasChip(alias: string, version?: number): HTMLSpanElement {
  const title = version === undefined ? undefined : `models:/…@${alias} loads version ${version}`;
  return h(
    "span",
    { class: "nbt-chip nbt-alias", title },
    `@${alias}`,
    version === undefined ? null : h("span", { class: "nbt-alias-version" }, ` v${version}`),
  );
}

function chips(nodes: HTMLElement[]): HTMLSpanElement {
  return h("span", { class: "nbt-chips" }, ...nodes);
}

function timeCell(iso: string | null, column: string): HTMLTableCellElement {
  if (!iso) return h("td", { class: "nbt-cell-null", "data-column": column }, "–");
  return h("td", { class: "nbt-cell-time", title: iso, "data-column": column }, formatTimestamp(iso));
}

function valueCell(value: CellValue | undefined, key: string, group: ColumnGroup): HTMLTableCellElement {
  const cell = formatCell(value, { name: `${group}.${key}`, group });
  const numeric = cell.kind === "number" ? " nbt-num" : "";
  return h(
    "td",
    { class: `nbt-cell-${cell.kind}${numeric}`, title: cell.title, "data-column": `${group}.${key}` },
    cell.text,
  );
}

// --- models and their versions --------------------------------------------------------------

function modelRow(entry: RegistryEntry, open: boolean): HTMLTableRowElement {
  const aliases = aliasLabels(entry.aliases).map(({ alias, version }) => aliasChip(alias, version));
  return h(
    "tr",
    {
      class: "nbt-row nbt-reg-model",
      tabindex: 0,
      "aria-expanded": String(open),
      "data-model": entry.name,
      "data-nbt-key": `model:${entry.name}`,
    },
    h("td", { class: "nbt-reg-toggle", "aria-hidden": "true" }, open ? "▾" : "▸"),
    h("td", { class: "nbt-reg-name", "data-column": "name" }, entry.name),
    h(
      "td",
      { class: "nbt-num", "data-column": "latest" },
      entry.latest_version === null ? "–" : `v${entry.latest_version}`,
    ),
    h("td", { "data-column": "aliases" }, chips(aliases)),
    h(
      "td",
      { class: entry.description ? "nbt-reg-description" : "nbt-cell-null", title: entry.description || undefined },
      entry.description || "–",
    ),
    timeCell(entry.updated_at, "updated"),
  );
}

function runCell(version: RegistryVersion): HTMLTableCellElement {
  if (!version.run_id) return h("td", { class: "nbt-cell-null", "data-column": "run" }, "–");
  return h(
    "td",
    { "data-column": "run", title: version.run_id },
    version.run_name ?? "",
    " ",
    h("span", { class: "nbt-mono nbt-muted" }, version.run_id.slice(0, 8)),
  );
}

function versionRow(entry: RegistryEntry, version: RegistryVersion, selected: string): HTMLTableRowElement {
  const key = versionKey(entry.name, version.version);
  return h(
    "tr",
    {
      class: "nbt-row nbt-reg-version",
      tabindex: 0,
      "aria-selected": String(key === selected),
      "data-version-key": key,
      "data-nbt-key": `version:${key}`,
    },
    h("td", { class: "nbt-num nbt-reg-vnum", "data-column": "version" }, `v${version.version}`),
    h("td", { "data-column": "stage" }, stageChip(version.stage)),
    h("td", { "data-column": "aliases" }, chips(version.aliases.map((alias) => aliasChip(alias)))),
    runCell(version),
    timeCell(version.created_at, "created"),
    ...entry.metric_keys.map((metric) => valueCell(version.metrics[metric], metric, "metrics")),
  );
}

function versionsTable(entry: RegistryEntry, selected: string): HTMLTableElement {
  const metricHeads = entry.metric_keys.map((key) =>
    h("th", { scope: "col", class: "nbt-num" }, h("span", { class: "nbt-prefix" }, "metrics."), key),
  );
  const rows = entry.versions.map((version) => versionRow(entry, version, selected));
  return h(
    "table",
    { class: "nbt-grid nbt-reg-versions", "aria-label": `versions of ${entry.name}` },
    h(
      "thead",
      {},
      h(
        "tr",
        {},
        ...["version", "stage", "aliases", "source run", "created"].map((label) =>
          h("th", { scope: "col", class: label === "version" ? "nbt-num" : undefined }, label),
        ),
        ...metricHeads,
      ),
    ),
    h(
      "tbody",
      {},
      ...(rows.length > 0 ? rows : [h("tr", {}, h("td", { class: "nbt-empty", colspan: 5 }, "no versions"))]),
    ),
  );
}

function modelGrid(model: Model): Part<HTMLDivElement> {
  const body = h("tbody");
  const head = h(
    "thead",
    {},
    h(
      "tr",
      {},
      h("th", { class: "nbt-reg-toggle", scope: "col" }),
      ...MODEL_COLUMNS.map((name) => h("th", { scope: "col", class: name === "latest" ? "nbt-num" : undefined }, name)),
    ),
  );
  const table = h("table", { class: "nbt-grid nbt-reg-grid", role: "grid" }, head, body);
  const label = h("div", { class: "nbt-pager-label nbt-reg-count", "aria-live": "polite" });

  const act = (row: HTMLTableRowElement): void => {
    const key = row.dataset.versionKey;
    if (key !== undefined) {
      save(model, "selected", clickedVersion(model.get("selected") ?? "", key));
    } else if (row.dataset.model !== undefined) {
      save(model, "expanded", toggleId(model.get("expanded") ?? [], row.dataset.model));
    }
  };
  const rowOf = (target: EventTarget | null): HTMLTableRowElement | null =>
    target instanceof Element ? target.closest<HTMLTableRowElement>("tr[data-model], tr[data-version-key]") : null;
  body.addEventListener("click", (event) => {
    const row = rowOf(event.target);
    if (!row || (window.getSelection()?.toString() ?? "") !== "") return; // copying text is no click
    act(row);
  });
  body.addEventListener("keydown", (event) => {
    const row = rowOf(event.target);
    if (!row || event.target !== row) return;
    if (event.key === " " || event.key === "Enter") act(row);
    else if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      const rows = Array.from(body.querySelectorAll<HTMLTableRowElement>("tr[tabindex]"));
      neighbour(rows, row, event.key)?.focus();
    } else return;
    event.preventDefault();
  });

  const update = (): void => {
    const entries = model.get("_models") ?? [];
    const open = new Set(model.get("expanded") ?? []);
    const selected = model.get("selected") ?? "";
    keepingFocus(table, () => {
      const rows: HTMLTableRowElement[] = [];
      for (const entry of entries) {
        const isOpen = open.has(entry.name);
        rows.push(modelRow(entry, isOpen));
        if (isOpen) {
          const inner = h(
            "td",
            { class: "nbt-reg-inner", colspan: MODEL_COLUMNS.length + 1 },
            versionsTable(entry, selected),
          );
          rows.push(h("tr", { class: "nbt-reg-versions-row" }, inner));
        }
      }
      body.replaceChildren(...rows);
    });
    label.textContent = modelsLabel(entries.length, model.get("filter") ?? "");
    table.hidden = entries.length === 0;
  };
  update();
  return { el: h("div", { class: "nbt-reg-models" }, h("div", { class: "nbt-scroll" }, table), label), update };
}

// --- the selected version -------------------------------------------------------------------

function copyButton(text: string, target: HTMLElement): HTMLButtonElement {
  const button = h(
    "button",
    { type: "button", class: "nbt-button nbt-copy", "data-nbt-key": `copy:${text}`, title: `copy ${text}` },
    "Copy",
  );
  button.addEventListener("click", () => {
    const done = (): void => {
      button.textContent = "Copied";
      setTimeout(() => {
        button.textContent = "Copy";
      }, 1500);
    };
    const selectText = (): void => {
      // Without clipboard access (an insecure page), select the text for the user to copy.
      const range = document.createRange();
      range.selectNodeContents(target);
      window.getSelection()?.removeAllRanges();
      window.getSelection()?.addRange(range);
    };
    if (navigator.clipboard) navigator.clipboard.writeText(text).then(done, selectText);
    else selectText();
  });
  return button;
}

function uriList(detail: VersionDetail): HTMLElement {
  const items = versionUris(detail.name, detail.version, detail.aliases).map((uri) => {
    const code = h("code", { class: "nbt-mono nbt-uri" }, uri);
    return h("li", {}, code, copyButton(uri, code));
  });
  return h("ul", { class: "nbt-reg-uris" }, ...items);
}

function section(title: string, ...content: Array<Node | null>): HTMLElement {
  return h("section", { class: "nbt-reg-section" }, h("h4", { class: "nbt-reg-section-title" }, title), ...content);
}

function keyValues(values: Record<string, CellValue>, group: ColumnGroup, empty: string): HTMLElement {
  const entries = sortedEntries(values);
  if (entries.length === 0) return h("p", { class: "nbt-empty" }, empty);
  return h(
    "table",
    { class: "nbt-grid nbt-reg-kv", "data-group": group },
    h(
      "tbody",
      {},
      ...entries.map(([key, value]) =>
        h("tr", {}, h("th", { scope: "row", class: "nbt-mono" }, key), valueCell(value, key, group)),
      ),
    ),
  );
}

function fields(list: readonly SchemaField[]): HTMLElement {
  return h(
    "ul",
    { class: "nbt-reg-fields" },
    ...list.map((field) =>
      h(
        "li",
        {},
        field.name ? h("span", { class: "nbt-mono" }, field.name) : null,
        field.name ? " " : null,
        h("span", { class: "nbt-muted" }, field.type),
      ),
    ),
  );
}

function runSection(run: DetailRun | null, note: string): HTMLElement {
  if (run === null) return section("source run", h("p", { class: "nbt-empty" }, note || "no source run"));
  return section(
    "source run",
    h(
      "p",
      { class: "nbt-reg-run" },
      h("strong", {}, run.name),
      " ",
      h("span", { class: "nbt-mono nbt-muted", title: "run id" }, run.id),
      " ",
      statusBadge(run.status),
      h("span", { class: "nbt-muted" }, ` in ${run.experiment}`),
    ),
  );
}

function modelSection(detail: VersionDetail): HTMLElement {
  const facts: Array<[string, Node | string]> = [
    ["flavors", chips(detail.flavors.map((flavor) => h("span", { class: "nbt-chip" }, flavor)))],
    ["source", h("span", { class: "nbt-mono" }, detail.source)],
    ["created", detail.created_at ? formatTimestamp(detail.created_at) : "–"],
  ];
  for (const [key, value] of sortedEntries(detail.tags)) facts.push([`tags.${key}`, value]);
  return section(
    "model",
    h(
      "table",
      { class: "nbt-grid nbt-reg-kv" },
      h(
        "tbody",
        {},
        ...facts.map(([key, value]) =>
          h(
            "tr",
            {},
            h("th", { scope: "row" }, key),
            h("td", { title: key === "source" ? detail.path : undefined }, value),
          ),
        ),
      ),
    ),
  );
}

function signatureSection(detail: VersionDetail): HTMLElement {
  if (detail.inputs.length === 0 && detail.outputs.length === 0) {
    return section("signature", h("p", { class: "nbt-empty" }, "no signature: log the model with an input_example"));
  }
  return section(
    "signature",
    h("div", { class: "nbt-muted" }, "inputs"),
    fields(detail.inputs),
    detail.outputs.length > 0 ? h("div", { class: "nbt-muted" }, "outputs") : null,
    detail.outputs.length > 0 ? fields(detail.outputs) : null,
  );
}

function detailPane(model: Model): Part<HTMLDivElement> {
  const el = h("div", { class: "nbt-reg-detail", "aria-live": "polite" });
  const update = (): void => {
    const detail = model.get("_detail");
    if (!isDetail(detail)) {
      el.hidden = true;
      el.replaceChildren();
      return;
    }
    const close = h(
      "button",
      { type: "button", class: "nbt-button", "data-nbt-key": "detail:close", "aria-label": "close the detail" },
      "×",
    );
    close.addEventListener("click", () => save(model, "selected", ""));
    const head = h(
      "div",
      { class: "nbt-reg-detail-head" },
      h("h3", { class: "nbt-heading" }, `${detail.name} `, h("span", { class: "nbt-muted" }, `v${detail.version}`)),
      stageChip(detail.stage),
      chips(detail.aliases.map((alias) => aliasChip(alias))),
      h("span", { class: "nbt-reg-spacer" }),
      close,
    );
    const run = detail.run;
    keepingFocus(el, () => {
      el.replaceChildren(
        head,
        detail.description ? h("p", { class: "nbt-reg-text" }, detail.description) : "",
        uriList(detail),
        h(
          "div",
          { class: "nbt-reg-sections" },
          runSection(run, detail.run_note),
          section("params", run ? keyValues(run.params, "params", "no params") : null),
          section("metrics", run ? keyValues(run.metrics, "metrics", "no metrics") : null),
          modelSection(detail),
          signatureSection(detail),
        ),
      );
    });
    el.hidden = false;
  };
  update();
  return { el, update };
}

// --- widget ---------------------------------------------------------------------------------

function render({ model, el }: RenderProps<ModelRegistryModel>): () => void {
  const filter = filterBox(
    model,
    { placeholder: "filter, e.g. name LIKE 'wine%' and tags.team = 'a'", label: "filter registered models" },
    (text) => save(model, "filter", text),
  );
  const error = filterError(model);
  const grid = modelGrid(model);
  const detail = detailPane(model);
  const root = widgetRoot("registry");
  root.append(h("div", { class: "nbt-toolbar" }, filter.el), error.el, grid.el, detail.el);
  el.append(root);
  const stops = [
    onChanges(model, ["filter"], filter.update),
    onChanges(model, ["_filter_error"], error.update),
    onChanges(model, ["_models", "expanded", "selected", "filter"], batched(grid.update)),
    onChanges(model, ["_detail"], detail.update),
  ];
  return () => {
    for (const stop of stops) stop();
    root.remove();
  };
}

export default { render };
