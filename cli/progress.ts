// One progress bar on stderr (cli-progress), drawn only when stderr is a terminal; elsewhere it
// does nothing, so captured output and --json stay clean.
import cliProgress from "cli-progress";
import process from "node:process";
import { stderrIsTerminal } from "./output.ts";

export interface Bar {
  /** `value` of `total`, with free text after the bar. */
  update(value: number, total: number, text: string): void;
  stop(): void;
}

const SILENT: Bar = { update() {}, stop() {} };

export function progressBar(label: string, enabled = true): Bar {
  if (!enabled || !stderrIsTerminal()) return SILENT;
  const bar = new cliProgress.SingleBar({
    stream: process.stderr,
    format: `${label} [{bar}] {percentage}% {text}`,
    barsize: 30,
    hideCursor: true,
    clearOnComplete: false,
    etaBuffer: 20,
  }, cliProgress.Presets.shades_classic);
  let started = false;
  return {
    update(value, total, text) {
      if (!started) {
        bar.start(total, value, { text });
        started = true;
      } else {
        bar.setTotal(total);
        bar.update(value, { text });
      }
    },
    stop() {
      if (started) bar.stop();
      started = false;
    },
  };
}
