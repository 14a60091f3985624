/**
 * The synced traits of nbtrack's widgets, named exactly as the Python side (nbtrack/widgets/)
 * declares them. Underscored traits are written by Python only; the others are two-way.
 * tests/test_trait_sync.py checks that these interfaces and the traits agree.
 */

/** A cell value as Python's `json_value` sends it (times arrive as ISO strings). */
export type CellValue = string | number | boolean | null;

export type ColumnGroup = "attributes" | "params" | "metrics" | "tags";

export interface ColumnInfo {
  name: string;
  group: ColumnGroup;
}

export interface SortKey {
  column: string;
  descending: boolean;
}

export interface TableRow {
  run_id: string;
  status: string;
  values: Record<string, CellValue>;
}

export interface RunTableModel {
  _all_columns: ColumnInfo[];
  columns: string[];
  sort: SortKey[];
  filter: string;
  _filter_error: string;
  offset: number;
  page_size: number;
  _total: number;
  _rows: TableRow[];
  selected: string[];
}

/** One metric series of one run; its points are the next `count` entries of `_data`. */
export interface SeriesInfo {
  run_id: string;
  name: string;
  key: string;
  count: number;
}

/**
 * A Python `bytes` trait arrives as a DataView (ipywidgets' buffer deserialisation). The other
 * members are accepted so that an empty initial value or another front end does not break us.
 */
export type BinaryTrait = DataView | ArrayBuffer | ArrayBufferView | null | undefined;

/** A Vega spec, compiled by Python from the Vega-Lite that Altair builds; opaque JSON here. */
export type VegaJson = Record<string, unknown>;

export type XAxis = "step" | "time" | "relative";

/** The traits of every curve chart (MetricPlot and Compare share them). */
export interface CurveTraits {
  _spec: VegaJson;
  _series: SeriesInfo[];
  _data: BinaryTrait;
  /** The number of the state in `_series` and `_data`: a live patch names the one it changes. */
  _curves_version: number;
  smoothing: number;
  log_y: boolean;
  x: XAxis;
  /** The x range shown, [low, high] in the axis' units (a zoomed chart), or null: all of it. */
  x_range: [number, number] | null;
}

/** Which widget a model of the shared chart bundle (charts.ts) is. */
export interface ChartsModel {
  _view: "plot" | "compare";
}

/** The runs and keys drawn are Python's alone: the browser draws `_series`. */
export interface MetricPlotModel extends CurveTraits {
  _view: "plot";
}

export interface CompareRun {
  run_id: string;
  name: string;
  status: string;
  experiment: string;
}

export interface CompareParam {
  key: string;
  values: CellValue[];
  differs: boolean;
}

export interface CompareMetric {
  key: string;
  last: Array<number | null>;
  min: Array<number | null>;
  max: Array<number | null>;
  /** Index (into `runs`) of the best run for this metric, or null. */
  best: number | null;
  higher_is_better: boolean;
}

export interface CompareCode {
  run_id: string;
  name: string;
  /** Unified diff against the first run's code; "" for the first run or when equal. */
  diff: string;
}

export interface CompareContent {
  runs: CompareRun[];
  /** Datasets (log_input), one row per name and context: each run's short digest and rows;
   * `differs` when the runs did not all use the same data under that name. */
  inputs: CompareParam[];
  params: CompareParam[];
  metrics: CompareMetric[];
  code: CompareCode[];
  /** Why no runs are side by side (nothing or too much selected), else "". */
  note: string;
}

/** A param whose values differ between the runs of a sweep: one value per run. */
export interface SweepParam {
  key: string;
  kind: "number" | "category";
  values: CellValue[];
  /** Spearman's rank correlation with each metric (numeric params only; null if undefined). */
  correlation: Record<string, number | null>;
}

export interface SweepMetric {
  key: string;
  values: CellValue[];
  higher_is_better: boolean;
}

/** Every run of a sweep (empty for fewer than 3 runs). */
export interface SweepContent {
  runs: Array<{ run_id: string; name: string; status: string }>;
  params: SweepParam[];
  /** Params equal in every run (not drawn). */
  constant: string[];
  metrics: SweepMetric[];
}

/** The runs compared are Python's alone: the browser draws `_sweep` and `_content`. */
export interface CompareModel extends CurveTraits {
  _view: "compare";
  selected: string[];
  /** The sweep's metric: the colour of the lines, the scatter's y. */
  metric: string;
  /** The scatter's x. */
  param: string;
  /** The params drawn as axes of the sweep; [] for the default: those most related to `metric`. */
  axes: string[];
  only_differences: boolean;
  _content: CompareContent;
  /** JSON of a `SweepContent` (or `{}`), as a buffer: see sweep.ts. */
  _sweep: BinaryTrait;
}

/** One version of a registered model, as a row under its model. */
export interface RegistryVersion {
  version: number;
  stage: string;
  aliases: string[];
  run_id: string | null;
  run_name: string | null;
  created_at: string | null;
  description: string;
  /** The source run's last value of each of its model's `metric_keys`. */
  metrics: Record<string, CellValue>;
}

/** One registered model and its versions, newest first. */
export interface RegistryEntry {
  name: string;
  description: string;
  /** alias -> version */
  aliases: Record<string, number>;
  tags: Record<string, string>;
  latest_version: number | null;
  created_at: string | null;
  updated_at: string | null;
  /** The metrics that the versions' runs share most, shown as columns of the versions. */
  metric_keys: string[];
  versions: RegistryVersion[];
}

export interface SchemaField {
  name: string;
  type: string;
}

export interface DetailRun {
  id: string;
  name: string;
  experiment: string;
  status: string;
  params: Record<string, CellValue>;
  metrics: Record<string, CellValue>;
}

/** The selected version: the model's own record, and its source run's params and metrics. */
export interface VersionDetail {
  name: string;
  version: number;
  stage: string;
  aliases: string[];
  description: string;
  source: string;
  path: string;
  created_at: string | null;
  tags: Record<string, string>;
  flavors: string[];
  inputs: SchemaField[];
  outputs: SchemaField[];
  /** null when the version has no source run, or its run was deleted (see `run_note`). */
  run: DetailRun | null;
  run_note: string;
}

export interface ModelRegistryModel {
  filter: string;
  _filter_error: string;
  _models: RegistryEntry[];
  /** Names of the models whose versions are shown. */
  expanded: string[];
  /** The selected version as "name/version", or "". */
  selected: string;
  _detail: VersionDetail | Record<string, never>;
}
