import { describe, expect, it } from "vitest";
import { diffLineKind, diffStats, splitLines } from "../src/diff";

const DIFF = [
  "--- run-a",
  "+++ run-b",
  "@@ -1,3 +1,3 @@",
  " import torch",
  "-lr = 0.1",
  "+lr = 0.01",
  "+epochs = 5",
  "\\ No newline at end of file",
  "",
].join("\n");

describe("diff helpers", () => {
  it("classifies unified diff lines, file headers apart from changes", () => {
    expect(splitLines(DIFF).map(diffLineKind)).toEqual([
      "meta",
      "meta",
      "hunk",
      "context",
      "del",
      "add",
      "add",
      "meta",
    ]);
  });

  it("counts added and removed lines", () => {
    expect(diffStats(DIFF)).toEqual({ added: 2, removed: 1 });
    expect(diffStats("")).toEqual({ added: 0, removed: 0 });
  });
});
