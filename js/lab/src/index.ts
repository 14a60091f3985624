/**
 * nbtrack's JupyterLab (and Notebook 7) extension: the Runs sidebar, run and compare pages,
 * cell badges, commands and a status-bar item, all served by the Jupyter server that is
 * already running (nbtrack/server), with no kernel.
 */

import type { JupyterFrontEnd, JupyterFrontEndPlugin } from "@jupyterlab/application";
import { ICommandPalette, MainAreaWidget } from "@jupyterlab/apputils";
import { PageConfig } from "@jupyterlab/coreutils";
import { INotebookTracker, type NotebookPanel } from "@jupyterlab/notebook";
import { IStatusBar } from "@jupyterlab/statusbar";
import { LabIcon } from "@jupyterlab/ui-components";
import { Widget } from "@lumino/widgets";
import { h } from "../../src/dom";
import type { Query } from "./api";
import { CellBadges } from "./badges";
import { RunPageWidget } from "./runpage";
import { RunsSidebar } from "./sidebar";
import { mountView } from "./views";

const ICON = new LabIcon({
  name: "nbtrack:runs",
  svgstr:
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"><g class="jp-icon3" fill="#616161">' +
    '<path d="M3 19h18v2H3zM5 11h3v6H5zm5-5h3v11h-3zm5 3h3v8h-3z"/></g></svg>',
});

const COMMANDS = {
  openRuns: "nbtrack:open-runs",
  openRun: "nbtrack:open-run",
  compare: "nbtrack:compare",
  refresh: "nbtrack:refresh",
  goToCell: "nbtrack:go-to-cell",
};

/** ``path`` (absolute, as runs record it) relative to the server's root, for the file browser. */
function serverPath(path: string): string {
  const root = PageConfig.getOption("serverRoot").replace(/\/+$/, "");
  return root && path.startsWith(`${root}/`) ? path.slice(root.length + 1) : path;
}

async function goToCell(app: JupyterFrontEnd, notebook: string, cellId: string): Promise<void> {
  const panel = (await app.commands.execute("docmanager:open", { path: serverPath(notebook) })) as NotebookPanel;
  await panel.context.ready;
  await panel.revealed;
  const index = panel.content.widgets.findIndex((cell) => cell.model.id === cellId);
  if (index < 0) return;
  panel.content.activeCellIndex = index;
  await panel.content.scrollToItem(index, "center");
  const cell = panel.content.widgets[index];
  cell.addClass("nbt-cell-found");
  window.setTimeout(() => cell.removeClass("nbt-cell-found"), 2000);
}

/**
 * Show a page in the main area; Notebook 7 keeps its main area for the document it opened,
 * so there the page goes to the side panel on the right.
 */
function showPage(app: JupyterFrontEnd, page: Widget): void {
  app.shell.add(page, "main");
  if (!page.isAttached) app.shell.add(page, "right", { rank: 100 });
  app.shell.activateById(page.id);
}

class StatusItem extends Widget {
  constructor(private readonly open: () => void) {
    super();
    this.addClass("nbt-status-item");
    this.node.title = "nbtrack: runs active in the store shown in the Runs sidebar";
    this.node.addEventListener("click", () => this.open());
    this.setActive(0);
  }

  setActive(active: number): void {
    this.node.textContent = active ? `nbtrack: ${active} running` : "nbtrack: idle";
    this.node.dataset.active = String(active);
  }
}

const plugin: JupyterFrontEndPlugin<void> = {
  id: "nbtrack:runs",
  description: "Runs sidebar, run pages and cell badges for nbtrack stores",
  autoStart: true,
  optional: [INotebookTracker, ICommandPalette, IStatusBar],
  activate: (
    app: JupyterFrontEnd,
    notebooks: INotebookTracker | null,
    palette: ICommandPalette | null,
    statusBar: IStatusBar | null,
  ) => {
    const pages = new Map<string, MainAreaWidget>();
    let status: StatusItem | null = null;

    const openRun = (runId: string, store: Query): void => {
      const known = pages.get(runId);
      if (known && !known.isDisposed) {
        app.shell.activateById(known.id);
        return;
      }
      const content = new RunPageWidget(runId, store, {
        goToCell: (notebook, cellId) => void goToCell(app, notebook, cellId),
        openRun,
      });
      const page = new MainAreaWidget({ content });
      page.id = `nbtrack-run-${runId}`;
      page.title.label = content.title.label;
      content.title.changed.connect(() => {
        page.title.label = content.title.label;
        page.title.caption = content.title.caption;
      });
      page.title.icon = ICON;
      pages.set(runId, page);
      showPage(app, page);
    };

    const compare = (runIds: string[], store: Query): void => {
      const content = new Widget();
      content.addClass("nbt-compare-page");
      const root = h("div", { class: "nbt-page" });
      content.node.append(root);
      const page = new MainAreaWidget({ content });
      page.id = `nbtrack-compare-${Date.now()}`;
      page.title.label = `Compare ${runIds.length} runs`;
      page.title.icon = ICON;
      showPage(app, page);
      mountView(root, "compare", runIds, [], store)
        .then((dispose) => page.disposed.connect(dispose))
        .catch((err) => root.append(h("pre", { class: "nbt-error" }, String(err.message ?? err))));
    };

    const sidebar = new RunsSidebar({
      currentNotebook: () => notebooks?.currentWidget?.context.path ?? null,
      openRun,
      compare,
      activeChanged: (active) => status?.setActive(active),
    });
    sidebar.title.icon = ICON;
    app.shell.add(sidebar, "left", { rank: 650 });
    notebooks?.currentChanged.connect(() => {
      if (sidebar.isVisible) void sidebar.refresh();
    });
    notebooks?.widgetAdded.connect((_, panel) => new CellBadges(panel, openRun));

    app.commands.addCommand(COMMANDS.openRuns, {
      label: "nbtrack: Show Runs",
      execute: () => app.shell.activateById(sidebar.id),
    });
    app.commands.addCommand(COMMANDS.refresh, {
      label: "nbtrack: Refresh Runs",
      execute: () => sidebar.refresh(),
    });
    app.commands.addCommand(COMMANDS.openRun, {
      label: "nbtrack: Open Run",
      execute: (args) => openRun(String(args.runId), (args.store as Query) ?? sidebar.storeQuery()),
    });
    app.commands.addCommand(COMMANDS.compare, {
      label: "nbtrack: Compare Runs",
      execute: (args) => compare((args.runIds as string[]) ?? [], (args.store as Query) ?? sidebar.storeQuery()),
    });
    app.commands.addCommand(COMMANDS.goToCell, {
      label: "nbtrack: Go to Cell",
      execute: (args) => goToCell(app, String(args.notebook), String(args.cellId)),
    });
    for (const command of [COMMANDS.openRuns, COMMANDS.refresh]) {
      palette?.addItem({ command, category: "nbtrack" });
    }
    if (statusBar) {
      status = new StatusItem(() => app.shell.activateById(sidebar.id));
      statusBar.registerStatusItem("nbtrack:status", { item: status, align: "left", rank: 5 });
    }
  },
};

export default plugin;
