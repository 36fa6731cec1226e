import { describe, expect, it } from "vitest";
import {
  chartTime,
  direction,
  formatChange,
  formatKoreanAmount,
  formatKrw,
  formatKstTime,
  formatRate,
  limitBadge,
  signDirection,
} from "../src/format";

describe("numbers", () => {
  it("uses Korean thousands separators", () => {
    expect(formatKrw(1234567)).toBe("1,234,567");
    expect(formatKrw(0)).toBe("0");
    expect(formatKrw(999)).toBe("999");
  });

  it("writes a change with the Korean arrows and no minus sign", () => {
    expect(formatChange(1500)).toBe("▲ 1,500");
    expect(formatChange(-1500)).toBe("▼ 1,500");
    expect(formatChange(0)).toBe("0");
    expect(formatChange(null)).toBe("—");
  });

  it("writes a rate with an explicit sign and two decimals", () => {
    expect(formatRate(1.234)).toBe("+1.23%");
    expect(formatRate(-1.235)).toBe("-1.24%");
    expect(formatRate(0)).toBe("0.00%");
    expect(formatRate(29.999)).toBe("+30.00%");
    expect(formatRate(undefined)).toBe("—");
  });

  it("writes large amounts in 조/억/만", () => {
    expect(formatKoreanAmount(1_234_000_000_000)).toBe("1.23조");
    expect(formatKoreanAmount(345_600_000_000)).toBe("3,456억");
    expect(formatKoreanAmount(78_900_000)).toBe("7,890만");
    expect(formatKoreanAmount(5_000)).toBe("5,000");
  });
});

describe("colour rules", () => {
  it("is up (red) above zero, down (blue) below, flat (grey) at zero or unknown", () => {
    expect(direction(1)).toBe("up");
    expect(direction(-1)).toBe("down");
    expect(direction(0)).toBe("flat");
    expect(direction(null)).toBe("flat");
    expect(direction(Number.NaN)).toBe("flat");
  });

  it("colours the limits like up and down and gives them a filled badge", () => {
    expect(signDirection("upper_limit")).toBe("up");
    expect(signDirection("lower_limit")).toBe("down");
    expect(limitBadge("upper_limit")).toEqual({ text: "↑", cls: "limit up" });
    expect(limitBadge("lower_limit")).toEqual({ text: "↓", cls: "limit down" });
    expect(limitBadge("up")).toBeNull();
  });
});

describe("KST time", () => {
  it("shifts bar times so a 09:00 KST bar reads 09:00 on the chart's UTC axis", () => {
    const t = chartTime("2026-11-27T09:00:00+09:00");
    expect(new Date(t * 1000).toISOString()).toBe("2026-11-27T09:00:00.000Z");
  });

  it("prints execution times in KST whatever the input offset", () => {
    expect(formatKstTime("2026-11-27T00:30:05Z")).toBe("09:30:05");
    expect(formatKstTime("2026-11-27T15:19:59+09:00")).toBe("15:19:59");
  });
});
