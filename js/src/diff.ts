/** Unified diff text as coloured lines (the code section of Compare). */

import { h } from "./dom";

export type DiffLineKind = "add" | "del" | "hunk" | "meta" | "context";

/** What a line of a unified diff is; "+++"/"---" file headers are not additions or removals. */
export function diffLineKind(line: string): DiffLineKind {
  if (line.startsWith("+++") || line.startsWith("---")) return "meta";
  if (line.startsWith("@@")) return "hunk";
  if (line.startsWith("+")) return "add";
  if (line.startsWith("-")) return "del";
  if (line.startsWith("\\")) return "meta"; // "\ No newline at end of file"
  return "context";
}

export interface DiffStats {
  added: number;
  removed: number;
}

export function splitLines(diff: string): string[] {
  const lines = diff.split(/\r?\n/);
  if (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
  return lines;
}

/** Lines added and removed, for the summary line of each run. */
export function diffStats(diff: string): DiffStats {
  const stats = { added: 0, removed: 0 };
  for (const line of splitLines(diff)) {
    const kind = diffLineKind(line);
    if (kind === "add") stats.added += 1;
    else if (kind === "del") stats.removed += 1;
  }
  return stats;
}

/** A <pre> with one block per line, classed by kind so that the CSS colours them. */
export function renderDiff(diff: string): HTMLPreElement {
  const lines = splitLines(diff).map((line) =>
    h("span", { class: `nbt-diff-line nbt-diff-${diffLineKind(line)}` }, line === "" ? " " : line),
  );
  return h("pre", { class: "nbt-diff" }, ...lines);
}
