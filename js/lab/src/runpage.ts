/**
 * A run's page in the main area: its params, metrics (last, min, max), curves, tags, artifacts
 * (images and text previewed), context (notebook, cell, git, environment), source with a link
 * that opens the notebook at the cell that made the run, and the diff against the previous run
 * of that cell. It reads the run again every 2 s while the run is active.
 */

import { Widget } from "@lumino/widgets";
import { renderDiff } from "../../src/diff";
import { h, statusBadge } from "../../src/dom";
import { formatDuration, formatMetric, formatTimestamp } from "../../src/format";
import { type Query, type RunDetail, artifactUrl, request } from "./api";
import { mountView } from "./views";

const ACTIVE_POLL_MS = 2000;
const MAX_CURVES = 8;
const IMAGE = /\.(png|jpe?g|gif|webp)$/i;
const TEXT = /\.(txt|log|json|ya?ml|csv|md|py|toml|cfg|ini)$/i;

export interface RunPageActions {
  goToCell(notebook: string, cellId: string): void;
  openRun(runId: string, store: Query): void;
}

function section(title: string, ...children: (Node | null | false)[]): HTMLElement | null {
  const shown = children.filter((c): c is Node => Boolean(c));
  return shown.length
    ? h("section", { class: "nbt-run-section", "data-section": title }, h("h3", {}, title), ...shown)
    : null;
}

function text(value: unknown): string {
  if (value === null || value === undefined) return "–";
  if (typeof value === "number") return formatMetric(value);
  return typeof value === "string" ? value : JSON.stringify(value);
}

function table(rows: [string, ...(string | Node)[]][], head?: string[]): HTMLTableElement | null {
  if (rows.length === 0) return null;
  return h(
    "table",
    { class: "nbt-kv" },
    head ? h("thead", {}, h("tr", {}, ...head.map((c) => h("th", {}, c)))) : null,
    h(
      "tbody",
      {},
      ...rows.map(([key, ...cells]) =>
        h("tr", {}, h("th", { scope: "row" }, key), ...cells.map((c) => h("td", {}, c))),
      ),
    ),
  );
}

export class RunPageWidget extends Widget {
  private timer: number | null = null;
  private disposeCurves: (() => void) | null = null;
  private curvesFor = "";
  private readonly body: HTMLDivElement;
  private readonly curves: HTMLElement;

  constructor(
    readonly runId: string,
    private readonly store: Query,
    private readonly actions: RunPageActions,
  ) {
    super();
    this.id = `nbtrack-run-content-${runId}`;
    this.title.label = `Run ${runId}`;
    this.title.closable = true;
    this.addClass("nbt-run-page");
    this.body = h("div", { class: "nbt-run-body" });
    this.curves = h("section", { class: "nbt-run-section nbt-run-curves" });
    this.node.append(
      h("div", { class: "nbt-root nbt-page", "data-lm-suppress-shortcuts": "true" }, this.body, this.curves),
    );
  }

  protected onAfterAttach(): void {
    void this.refresh();
  }

  protected onBeforeDetach(): void {
    if (this.timer !== null) window.clearTimeout(this.timer);
    this.timer = null;
  }

  dispose(): void {
    this.disposeCurves?.();
    super.dispose();
  }

  async refresh(): Promise<void> {
    let run: RunDetail;
    try {
      run = await request<RunDetail>(`runs/${encodeURIComponent(this.runId)}`, this.store);
    } catch (err) {
      this.body.replaceChildren(h("pre", { class: "nbt-error" }, String(err instanceof Error ? err.message : err)));
      return;
    }
    this.title.label = run.name;
    this.title.caption = `${run.name} (${run.run_id}), ${run.status}`;
    const sections = this.sections(run);
    const metrics = sections.findIndex((section) => section.dataset.section === "Metrics");
    sections.splice(metrics < 0 ? sections.length : metrics + 1, 0, this.curves);
    this.body.replaceChildren(...sections);
    await this.showCurves(run);
    if (run.status === "running" && this.isAttached) {
      this.timer = window.setTimeout(() => void this.refresh(), ACTIVE_POLL_MS);
    }
  }

  private sections(run: RunDetail): HTMLElement[] {
    const started = run.start_time ? formatTimestamp(run.start_time) : "";
    const seconds = run.duration;
    const header = h(
      "header",
      { class: "nbt-run-header" },
      h("h2", {}, statusBadge(run.status), " ", run.name),
      h(
        "div",
        { class: "nbt-muted" },
        [run.experiment, run.run_id, started, seconds === null ? "" : formatDuration(seconds)]
          .filter(Boolean)
          .join(" · "),
      ),
    );
    const notebook = run.context.notebook as string | null;
    const notebookPath = (run.context.notebook_path as string | null) ?? notebook;
    const cellId = run.context.cell_id as string | null;
    let cellLink: HTMLElement | null = null;
    if (notebook && cellId) {
      cellLink = h("button", { class: "nbt-button nbt-go-to-cell", type: "button" }, "Go to cell");
      cellLink.addEventListener("click", () => this.actions.goToCell(notebookPath ?? notebook, cellId));
    }
    const metricRows = Object.entries(run.metric_summaries).map(
      ([key, s]) =>
        [key, text(s.last), text(s.min), text(s.max), String(s.count)] as [string, string, string, string, string],
    );
    const artifacts = run.artifacts.map((artifact) => this.artifact(run.run_id, artifact.path, artifact.size));
    const context = Object.entries(run.context)
      .filter(
        ([key, value]) =>
          !["code", "packages", "notebook", "cell_id"].includes(key) && value !== null && value !== undefined,
      )
      .map(([key, value]) => [key, text(value)] as [string, string]);
    const packages = Object.entries((run.context.packages as Record<string, string>) ?? {}).map(
      ([name, version]) => `${name} ${version}`,
    );
    const links = (ids: string[]): HTMLElement[] =>
      ids.map((id) => {
        const link = h("button", { class: "nbt-run-link", type: "button" }, id);
        link.addEventListener("click", () => this.actions.openRun(id, this.store));
        return link;
      });
    return [
      header,
      this.changes(run),
      run.error ? h("pre", { class: "nbt-error" }, run.error) : null,
      section("Params", table(Object.entries(run.params).map(([k, v]) => [k, text(v)]))),
      section("Metrics", table(metricRows, ["metric", "last", "min", "max", "points"])),
      section("Tags", table(Object.entries(run.tags).map(([k, v]) => [k, v]))),
      section("Artifacts", ...artifacts),
      section(
        "Source",
        notebook ? h("div", {}, `${notebook}${cellId ? ` (cell ${cellId})` : ""} `, cellLink) : null,
        run.context.code ? h("pre", { class: "nbt-code" }, String(run.context.code)) : null,
      ),
      section(
        "Changes since the previous run of this cell",
        run.previous ? h("div", {}, "previous: ", ...links([run.previous])) : null,
        run.diff?.code ? renderDiff(run.diff.code) : null,
        run.diff?.params && Object.keys(run.diff.params).length
          ? table(
              Object.entries(run.diff.params).map(([k, [a, b]]) => [k, text(a), text(b)]),
              ["param", "before", "after"],
            )
          : null,
      ),
      section(
        "Runs inside it",
        ...(run.children.length ? [h("div", { class: "nbt-links" }, ...links(run.children))] : []),
      ),
      section(
        "Context",
        table(context),
        packages.length ? h("div", { class: "nbt-muted" }, packages.join(", ")) : null,
      ),
    ].filter((s): s is HTMLElement => s !== null);
  }

  /** What the page may change: a tag, and whether the run is deleted (hidden). */
  private changes(run: RunDetail): HTMLElement {
    const key = h("input", {
      type: "text",
      class: "nbt-filter nbt-tag-key",
      placeholder: "tag",
      "aria-label": "tag name",
    });
    const value = h("input", {
      type: "text",
      class: "nbt-filter nbt-tag-value",
      placeholder: "value",
      "aria-label": "tag value",
    });
    const add = h("button", { class: "nbt-button", type: "button" }, "Set tag");
    const path = `runs/${encodeURIComponent(run.run_id)}`;
    const send = async (sub: string, method: string, body?: unknown): Promise<void> => {
      try {
        await request(sub, this.store, { method, body: body === undefined ? undefined : JSON.stringify(body) });
        await this.refresh();
      } catch (err) {
        this.body.prepend(h("pre", { class: "nbt-error" }, String(err instanceof Error ? err.message : err)));
      }
    };
    add.addEventListener("click", () => {
      if (key.value.trim()) void send(`${path}/tags`, "POST", { key: key.value.trim(), value: value.value });
    });
    const toggle = h(
      "button",
      { class: "nbt-button nbt-delete", type: "button" },
      run.deleted ? "Restore run" : "Delete run",
    );
    toggle.addEventListener("click", () => void (run.deleted ? send(`${path}/restore`, "POST") : send(path, "DELETE")));
    return h(
      "div",
      { class: "nbt-run-actions" },
      key,
      value,
      add,
      toggle,
      run.deleted ? h("span", { class: "nbt-muted" }, "deleted: hidden from searches") : null,
    );
  }

  private artifact(runId: string, path: string, size: number): HTMLElement {
    const href = artifactUrl(runId, path, this.store);
    const link = h("a", { href, target: "_blank", rel: "noopener" }, path);
    const item = h("div", { class: "nbt-artifact" }, link, h("span", { class: "nbt-muted" }, ` ${size} bytes`));
    if (IMAGE.test(path)) {
      item.append(h("img", { src: href, alt: path, class: "nbt-artifact-image" }));
    } else if (TEXT.test(path) && size < 200_000) {
      const pre = h("pre", { class: "nbt-code" }, "…");
      item.append(pre);
      fetch(href, { credentials: "same-origin" })
        .then((r) => r.text())
        .then((t) => {
          pre.textContent = t;
        })
        .catch(() => pre.remove());
    }
    return item;
  }

  private async showCurves(run: RunDetail): Promise<void> {
    const keys = Object.keys(run.metric_summaries)
      .filter((key) => (run.metric_summaries[key]?.count ?? 0) > 1)
      .slice(0, MAX_CURVES);
    const version = `${keys.join(",")}|${keys.map((k) => run.metric_summaries[k]?.count).join(",")}`;
    if (version === this.curvesFor) return;
    this.curvesFor = version;
    this.disposeCurves?.();
    this.disposeCurves = null;
    this.curves.replaceChildren();
    if (keys.length === 0) return;
    this.curves.append(h("h3", {}, "Curves"));
    const el = h("div", {});
    this.curves.append(el);
    this.disposeCurves = await mountView(el, "plot", [run.run_id], keys, this.store);
  }
}
