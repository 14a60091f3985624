/**
 * Cell badges: a `%%track` cell shows a chip with its last run's status, duration and first
 * metric, under the cell's input; clicking it opens the run's page. The chips follow the cells'
 * runs: read again as the kernel goes idle (and shortly after, once the run's last rows are
 * written), and every 2 s while one of them is running.
 */

import type { NotebookPanel } from "@jupyterlab/notebook";
import { h, statusBadge } from "../../src/dom";
import { formatDuration, formatMetric } from "../../src/format";
import { type CellBadge, type Query, request } from "./api";

const ACTIVE_POLL_MS = 2000;
// After a cell ran, its run's last rows reach the store within about a second (the kernel
// flushes them in the background): read again a little later, twice.
const SETTLE_MS = [1200, 3000];
const BADGE = "nbt-cell-badge";

export class CellBadges {
  private timer: number | null = null;
  private disposed = false;

  constructor(
    private readonly panel: NotebookPanel,
    private readonly openRun: (runId: string, store: Query) => void,
  ) {
    panel.context.ready.then(() => this.refresh()).catch(() => undefined);
    panel.sessionContext.statusChanged.connect((_, status) => {
      if (status !== "idle") return;
      void this.refresh();
      for (const wait of SETTLE_MS) window.setTimeout(() => void this.refresh(), wait);
    });
    panel.content.model?.cells.changed.connect(() => void this.refresh());
    panel.disposed.connect(() => {
      this.disposed = true;
      if (this.timer !== null) window.clearTimeout(this.timer);
    });
  }

  async refresh(): Promise<void> {
    if (this.disposed) return;
    if (this.timer !== null) window.clearTimeout(this.timer);
    this.timer = null;
    const store = { notebook: this.panel.context.path };
    let cells: Record<string, CellBadge>;
    try {
      cells = (await request<{ cells: Record<string, CellBadge> }>("cells", store)).cells;
    } catch {
      return; // no server extension, or no store yet: no badges
    }
    for (const cell of this.panel.content.widgets) {
      const badge = cells[cell.model.id];
      const old = cell.node.querySelector(`.${BADGE}`);
      if (!badge) {
        old?.remove();
        continue;
      }
      const chip = this.chip(badge, store);
      if (old) old.replaceWith(chip);
      else (cell.node.querySelector(".jp-Cell-inputWrapper") ?? cell.inputArea?.node)?.after(chip);
    }
    if (Object.values(cells).some((b) => b.status === "running")) {
      this.timer = window.setTimeout(() => void this.refresh(), ACTIVE_POLL_MS);
    }
  }

  private chip(badge: CellBadge, store: Query): HTMLButtonElement {
    const parts: string[] = [];
    if (badge.duration !== null) parts.push(formatDuration(badge.duration));
    if (badge.metric) parts.push(`${badge.metric[0]} ${formatMetric(badge.metric[1])}`);
    const chip = h(
      "button",
      {
        class: `nbt-root ${BADGE}`,
        type: "button",
        title: `open run ${badge.name} (${badge.run_id})`,
        "data-run-id": badge.run_id,
      },
      statusBadge(badge.status, true),
      ` ${[badge.name, ...parts].join(" · ")}`,
    );
    chip.addEventListener("click", () => this.openRun(badge.run_id, store));
    return chip;
  }
}
