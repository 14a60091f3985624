import { describe, expect, it } from "vitest";
import {
  aliasLabels,
  clickedVersion,
  isDetail,
  modelsLabel,
  neighbour,
  parseVersionKey,
  sortedEntries,
  stageKind,
  versionKey,
  versionUris,
} from "../src/registry-state";

describe("version keys", () => {
  it("round-trips name and version, names with slashes included", () => {
    expect(versionKey("wine", 3)).toBe("wine/3");
    expect(parseVersionKey("wine/3")).toEqual({ name: "wine", version: 3 });
    expect(parseVersionKey(versionKey("team/wine", 12))).toEqual({ name: "team/wine", version: 12 });
  });

  it("reads nothing from an empty or malformed key", () => {
    expect(parseVersionKey("")).toBeNull();
    expect(parseVersionKey("wine")).toBeNull();
    expect(parseVersionKey("/3")).toBeNull();
    expect(parseVersionKey("wine/latest")).toBeNull();
    expect(parseVersionKey("wine/0")).toBeNull();
  });

  it("deselects on a second click, and moves the selection otherwise", () => {
    expect(clickedVersion("", "wine/1")).toBe("wine/1");
    expect(clickedVersion("wine/1", "wine/1")).toBe("");
    expect(clickedVersion("wine/1", "wine/2")).toBe("wine/2");
  });
});

describe("URIs", () => {
  it("load the version by number, then by each alias in order", () => {
    expect(versionUris("wine", 2, ["prod", "champion"])).toEqual([
      "models:/wine/2",
      "models:/wine@champion",
      "models:/wine@prod",
    ]);
    expect(versionUris("wine", 1, [])).toEqual(["models:/wine/1"]);
  });

  it("leave the aliases given unchanged", () => {
    const aliases = ["b", "a"];
    versionUris("m", 1, aliases);
    expect(aliases).toEqual(["b", "a"]);
  });
});

describe("stages and aliases", () => {
  it("colours the four stages in any case", () => {
    expect(stageKind("Production")).toBe("production");
    expect(stageKind("staging")).toBe("staging");
    expect(stageKind("ARCHIVED")).toBe("archived");
    expect(stageKind("None")).toBe("none");
    expect(stageKind("something else")).toBe("none");
  });

  it("lists a model's aliases sorted, with their versions", () => {
    expect(aliasLabels({ prod: 3, champion: 2 })).toEqual([
      { alias: "champion", version: 2 },
      { alias: "prod", version: 3 },
    ]);
    expect(aliasLabels({})).toEqual([]);
  });

  it("sorts params and metrics by key", () => {
    expect(sortedEntries({ lr: 0.1, C: 1, alpha: null })).toEqual([
      ["C", 1],
      ["alpha", null],
      ["lr", 0.1],
    ]);
  });
});

describe("labels and keyboard", () => {
  it("counts the models, or says why there are none", () => {
    expect(modelsLabel(1, "")).toBe("1 registered model");
    expect(modelsLabel(3, "name LIKE 'w%'")).toBe("3 registered models");
    expect(modelsLabel(0, "name = 'x'")).toBe("no registered models match the filter");
    expect(modelsLabel(0, " ")).toContain("nbtrack.register_model");
  });

  it("moves between rows with the arrow keys, stopping at the ends", () => {
    const rows = ["a", "b", "c"];
    expect(neighbour(rows, "b", "ArrowDown")).toBe("c");
    expect(neighbour(rows, "b", "ArrowUp")).toBe("a");
    expect(neighbour(rows, "c", "ArrowDown")).toBeNull();
    expect(neighbour(rows, "a", "ArrowUp")).toBeNull();
    expect(neighbour(rows, "z", "ArrowDown")).toBeNull();
    expect(neighbour(rows, "a", "Enter")).toBeNull();
  });
});

describe("detail", () => {
  it("tells a selected version's detail from the empty one", () => {
    expect(isDetail({})).toBe(false);
    expect(isDetail(undefined)).toBe(false);
  });
});
