/// <reference types="node" />
import { afterEach, describe, expect, it } from "vitest";
import { formatCell, formatDuration, formatMetric, formatNumber, formatTimestamp, rowsLabel } from "../src/format";

describe("formatMetric", () => {
  it("keeps integers as they are", () => {
    expect(formatMetric(42)).toBe("42");
    expect(formatMetric(0)).toBe("0");
    expect(formatMetric(-7)).toBe("-7");
    expect(formatMetric(123456789)).toBe("123456789");
  });

  it("shows up to 4 significant digits", () => {
    expect(formatMetric(0.123456)).toBe("0.1235");
    expect(formatMetric(3.14159)).toBe("3.142");
    expect(formatMetric(0.5)).toBe("0.5");
    expect(formatMetric(12.3)).toBe("12.3");
    expect(formatMetric(-0.0012346)).toBe("-0.001235");
  });

  it("rounds thousands to whole numbers and uses exponents for the very small or large", () => {
    expect(formatMetric(12345.678)).toBe("12346");
    expect(formatMetric(1234567.8)).toBe("1.235e6");
    expect(formatMetric(0.000012346)).toBe("1.235e-5");
    expect(formatMetric(0.00001)).toBe("1e-5");
  });

  it("names non-finite values", () => {
    expect(formatMetric(Number.NaN)).toBe("NaN");
    expect(formatMetric(Number.POSITIVE_INFINITY)).toBe("∞");
    expect(formatMetric(Number.NEGATIVE_INFINITY)).toBe("−∞");
  });
});

describe("formatNumber", () => {
  it("shows a param exactly", () => {
    expect(formatNumber(0.0003)).toBe("0.0003");
    expect(formatNumber(0.123456789)).toBe("0.123456789");
    expect(formatNumber(64)).toBe("64");
  });
});

describe("formatDuration", () => {
  it("formats seconds, minutes, hours and days", () => {
    expect(formatDuration(0.35)).toBe("0.35 s");
    expect(formatDuration(1.23)).toBe("1.2 s");
    expect(formatDuration(59.94)).toBe("59.9 s");
    expect(formatDuration(59.96)).toBe("1 m 00 s");
    expect(formatDuration(184)).toBe("3 m 04 s");
    expect(formatDuration(3599.6)).toBe("1 h 00 m");
    expect(formatDuration(2 * 3600 + 5 * 60 + 10)).toBe("2 h 05 m");
    expect(formatDuration(3 * 86400 + 4 * 3600)).toBe("3 d 04 h");
    expect(formatDuration(0)).toBe("0 s");
  });
});

describe("formatTimestamp", () => {
  const zone = process.env.TZ;
  afterEach(() => {
    process.env.TZ = zone;
  });

  it("shows local time as YYYY-MM-DD HH:MM", () => {
    process.env.TZ = "UTC";
    expect(formatTimestamp("2024-03-05T07:08:09.123456+00:00")).toBe("2024-03-05 07:08");
    process.env.TZ = "Asia/Kolkata"; // +05:30
    expect(formatTimestamp("2024-03-05T23:45:00+00:00")).toBe("2024-03-06 05:15");
  });

  it("returns text that is not a date unchanged", () => {
    expect(formatTimestamp("yesterday")).toBe("yesterday");
  });
});

describe("formatCell", () => {
  it("formats by column", () => {
    process.env.TZ = "UTC";
    expect(formatCell(null, undefined)).toEqual({ text: "–", kind: "null" });
    expect(formatCell(true, { name: "params.flag", group: "params" }).text).toBe("true");
    expect(formatCell(0.98765, { name: "metrics.acc", group: "metrics" })).toEqual({
      text: "0.9877",
      kind: "number",
      title: "0.98765",
    });
    expect(formatCell(0.0003, { name: "params.lr", group: "params" }).text).toBe("0.0003");
    expect(formatCell(184, { name: "duration", group: "attributes" }).text).toBe("3 m 04 s");
    expect(formatCell("2024-03-05T07:08:09+00:00", { name: "start_time", group: "attributes" })).toMatchObject({
      text: "2024-03-05 07:08",
      kind: "time",
    });
    expect(formatCell("adam", { name: "params.optimizer", group: "params" })).toEqual({
      text: "adam",
      kind: "text",
    });
  });
});

describe("rowsLabel", () => {
  it("says which rows the page shows", () => {
    expect(rowsLabel(0, 25, 120)).toBe("rows 1–25 of 120");
    expect(rowsLabel(100, 20, 120)).toBe("rows 101–120 of 120");
    expect(rowsLabel(0, 0, 0)).toBe("no rows");
    expect(rowsLabel(50, 0, 10)).toBe("no rows here (10 in all)");
  });
});
