// Number formatting shared by every view: Korean thousands separators.
const krw = new Intl.NumberFormat("ko-KR");

/** Formats a KRW amount or a share count with thousands separators: 1234567 → "1,234,567". */
export function formatKrw(value: number): string {
  return krw.format(value);
}
