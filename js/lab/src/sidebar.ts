/**
 * The Runs sidebar: the store next to the notebook in front (or one typed in), its experiments,
 * and its runs newest first with their status at a glance. The filter box takes the typed
 * grammar of `nbtrack.search` and shows its errors; ticking rows selects runs to compare; a
 * click on a run opens its page. While it is shown it asks the store's version every second and
 * reads the runs again when that changed: a run another process logs appears within a second.
 */

import { Widget } from "@lumino/widgets";
import { h, statusBadge } from "../../src/dom";
import { formatDuration, formatMetric } from "../../src/format";
import { ApiError, type Query, type RunPage, type RunRow, type StoreInfo, request } from "./api";

const PAGE = 50;
const POLL_MS = 1000;

export interface SidebarActions {
  /** The notebook in front, as a path relative to the server root, or null. */
  currentNotebook(): string | null;
  openRun(runId: string, store: Query): void;
  compare(runIds: string[], store: Query): void;
  /** Runs active in the store shown (for the status bar). */
  activeChanged(active: number): void;
}

export class RunsSidebar extends Widget {
  private storePath = "";
  private experiment = "";
  private filter = "";
  private selected = new Set<string>();
  private info: StoreInfo | null = null;
  private page: RunPage | null = null;
  private timer: number | null = null;
  private shown = ""; // what the list shows now: it is rebuilt only when that changes
  private asked = ""; // the runs query last answered, and the store's version then
  private readonly storeInput: HTMLInputElement;
  private readonly experimentSelect: HTMLSelectElement;
  private readonly filterInput: HTMLInputElement;
  private readonly error: HTMLPreElement;
  private readonly list: HTMLDivElement;
  private readonly footer: HTMLDivElement;

  constructor(private readonly actions: SidebarActions) {
    super();
    this.id = "nbtrack-runs";
    this.title.caption = "nbtrack runs";
    this.addClass("nbt-runs-sidebar");
    this.storeInput = h("input", {
      class: "nbt-filter nbt-store-path",
      type: "text",
      placeholder: "the store next to the notebook",
      "aria-label": "store folder (Enter switches)",
      title: "The store shown: empty for the one next to the notebook in front, or a folder",
      spellcheck: "false",
    });
    this.storeInput.addEventListener("keydown", (event) => {
      if (event.key === "Enter") {
        this.storePath = this.storeInput.value.trim();
        void this.refresh();
      }
    });
    this.experimentSelect = h("select", { class: "nbt-select-input nbt-experiment", "aria-label": "experiment" });
    this.experimentSelect.addEventListener("change", () => {
      this.experiment = this.experimentSelect.value;
      void this.refresh();
    });
    this.filterInput = h("input", {
      class: "nbt-filter nbt-run-filter",
      type: "text",
      placeholder: "metrics.acc > 0.9 and params.lr < 0.01",
      "aria-label": "filter runs (Enter applies)",
      spellcheck: "false",
      autocomplete: "off",
    });
    this.filterInput.addEventListener("keydown", (event) => {
      if (event.key === "Enter") {
        this.filter = this.filterInput.value.trim();
        void this.refresh();
      } else if (event.key === "Escape") {
        this.filterInput.value = this.filter;
      }
    });
    this.error = h("pre", { class: "nbt-error", role: "alert" });
    this.error.hidden = true;
    this.list = h("div", { class: "nbt-run-list", role: "list" });
    this.footer = h("div", { class: "nbt-runs-footer" });
    const root = h(
      "div",
      { class: "nbt-root nbt-sidebar", "data-lm-suppress-shortcuts": "true" },
      h("div", { class: "nbt-sidebar-title" }, "Runs"),
      this.storeInput,
      this.experimentSelect,
      this.filterInput,
      this.error,
      this.list,
      this.footer,
    );
    this.node.append(root);
  }

  /** What every request says about the store: the folder typed in, else the notebook's. */
  storeQuery(): Query {
    if (this.storePath) return { store: this.storePath };
    return { notebook: this.actions.currentNotebook() };
  }

  /** Read the store again now (and schedule the next poll). */
  async refresh(): Promise<void> {
    if (this.timer !== null) window.clearTimeout(this.timer);
    this.timer = null;
    const store = this.storeQuery();
    const query = { ...store, experiment: this.experiment, filter: this.filter, limit: PAGE };
    try {
      this.info = await request<StoreInfo>("store", store);
      const asked = JSON.stringify([query, this.info.version, this.info.root]);
      if (asked !== this.asked) {
        this.page = await request<RunPage>("runs", query);
        this.asked = asked; // (not on errors: the next poll asks again)
      }
      this.showError(null);
    } catch (err) {
      this.showError(err);
    }
    const now = JSON.stringify([this.info, this.page, [...this.selected], this.error.textContent]);
    if (now !== this.shown) {
      this.shown = now;
      this.render();
    }
    this.actions.activeChanged(this.info?.active ?? 0);
    if (this.isVisible) {
      this.timer = window.setTimeout(() => void this.refresh(), POLL_MS);
    }
  }

  protected onAfterShow(): void {
    void this.refresh();
  }

  protected onAfterHide(): void {
    if (this.timer !== null) window.clearTimeout(this.timer);
    this.timer = null;
  }

  private showError(err: unknown): void {
    if (err === null) {
      this.error.hidden = true;
      this.filterInput.classList.remove("nbt-invalid");
      return;
    }
    let text = err instanceof Error ? err.message : String(err);
    if (err instanceof ApiError && err.position !== null && !text.includes("\n")) {
      text += `\n  ${this.filter}\n  ${" ".repeat(err.position)}^`;
    }
    this.error.textContent = text;
    this.error.hidden = false;
    this.filterInput.classList.toggle("nbt-invalid", err instanceof ApiError && err.status === 400);
  }

  private render(): void {
    const info = this.info;
    this.storeInput.placeholder = info ? info.root : "the store next to the notebook";
    const options = [h("option", { value: "" }, `All experiments${info ? ` (${info.experiments.length})` : ""}`)];
    for (const experiment of info?.experiments ?? []) {
      const running = experiment.running ? `, ${experiment.running} running` : "";
      options.push(h("option", { value: experiment.name }, `${experiment.name} (${experiment.runs}${running})`));
    }
    this.experimentSelect.replaceChildren(...options);
    this.experimentSelect.value = this.experiment;
    const runs = this.page?.runs ?? [];
    if (info && !info.exists) {
      this.list.replaceChildren(
        h("div", { class: "nbt-empty" }, `No store at ${info.root} yet: runs logged there appear here.`),
      );
    } else if (runs.length === 0) {
      this.list.replaceChildren(
        h("div", { class: "nbt-empty" }, this.filter ? "No run matches the filter." : "No runs yet."),
      );
    } else {
      this.list.replaceChildren(...runs.map((run) => this.row(run)));
    }
    const shown = runs.length;
    const total = this.page?.total ?? 0;
    const compare = h(
      "button",
      { class: "nbt-button", type: "button", disabled: this.selected.size < 2 },
      `Compare ${this.selected.size || ""}`.trim(),
    );
    compare.addEventListener("click", () => this.actions.compare([...this.selected], this.storeQuery()));
    this.footer.replaceChildren(h("span", { class: "nbt-muted" }, `${shown} of ${total} runs`), compare);
  }

  private row(run: RunRow): HTMLDivElement {
    const box = h("input", { type: "checkbox", "aria-label": `select ${run.name}` });
    box.checked = this.selected.has(run.run_id);
    box.addEventListener("change", () => {
      if (box.checked) this.selected.add(run.run_id);
      else this.selected.delete(run.run_id);
      this.render();
    });
    const first = Object.entries(run.metrics)
      .sort(([a], [b]) => a.localeCompare(b))
      .find(([, value]) => typeof value === "number");
    const metric = first ? `${first[0]} ${formatMetric(first[1] as number)}` : "";
    const duration = run.duration === null ? "" : formatDuration(run.duration);
    const name = h(
      "button",
      { class: "nbt-run-link", type: "button", title: `open run ${run.run_id}` },
      run.name || run.run_id,
    );
    name.addEventListener("click", () => this.actions.openRun(run.run_id, this.storeQuery()));
    return h(
      "div",
      { class: "nbt-run-row", role: "listitem", "data-run-id": run.run_id, "data-status": run.status },
      box,
      statusBadge(run.status, true),
      h(
        "div",
        { class: "nbt-run-text" },
        name,
        h("span", { class: "nbt-muted" }, [run.experiment, duration, metric].filter(Boolean).join(" · ")),
      ),
    );
  }
}
