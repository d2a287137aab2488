// How results reach the terminal: JSON for scripts (`--json`), tables and short lines for people.
// Tables are plain (no colours) so piped output stays clean.
import Table from "cli-table3";
import process from "node:process";

export function printJson(value: unknown): void {
  console.log(JSON.stringify(value, null, 2));
}

export function table(head: string[], rows: (string | number)[][]): string {
  const t = new Table({ head, style: { head: [], border: [], compact: true } });
  t.push(...rows);
  return t.toString();
}

export function printTable(head: string[], rows: (string | number)[][]): void {
  console.log(table(head, rows));
}

/** Four significant figures; small and large magnitudes in exponent form; null as "-". */
export function num(value: number | null | undefined): string {
  if (value === null || value === undefined || Number.isNaN(value)) return "-";
  if (value === 0) return "0";
  const abs = Math.abs(value);
  if (Number.isInteger(value) && abs < 1e9) return String(value);
  return abs < 1e-3 || abs >= 1e6 ? value.toExponential(3) : String(Number(value.toPrecision(4)));
}

export function duration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return "?";
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}

export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ["KiB", "MiB", "GiB"];
  let value = n / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}

/** Progress bars and notes go to stderr, and only bars need a terminal. */
export function stderrIsTerminal(): boolean {
  return process.stderr.isTTY === true;
}

export function note(message: string): void {
  console.error(message);
}

/** "rows a–b of total" under a paged table. */
export function pageNote(shown: number, offset: number, total: number): string {
  if (shown === 0) return `none of ${total}`;
  return `${offset + 1}–${offset + shown} of ${total}`;
}
