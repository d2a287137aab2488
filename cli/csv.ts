// Loss trajectories as CSV (`t,<test ids…>`, one row per step from t = 0), written as they come, to
// stdout or a file; and which format an output path asks for.

export function csvField(value: string): string {
  return /[",\n\r]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

export function csvRow(cells: (string | number)[]): string {
  return cells.map((c) => typeof c === "number" ? String(c) : csvField(c)).join(",") + "\n";
}

/**
 * Where text goes: stdout, or a file created (or emptied) for it. Writes are gathered and flushed
 * every 64 KiB or 200 ms, so a long CSV costs few system calls and a stream still shows progress.
 */
export async function openOutput(path: string | undefined) {
  const file = path ? await Deno.open(path, { write: true, create: true, truncate: true }) : null;
  const writer = file ?? Deno.stdout;
  const encoder = new TextEncoder();
  let pending: string[] = [];
  let size = 0;
  let lastFlush = performance.now();
  const flush = async () => {
    const data = encoder.encode(pending.join(""));
    pending = [];
    size = 0;
    lastFlush = performance.now();
    for (let offset = 0; offset < data.byteLength;) {
      offset += await writer.write(data.subarray(offset));
    }
  };
  return {
    async write(text: string) {
      pending.push(text);
      size += text.length;
      if (size >= 1 << 16 || performance.now() - lastFlush > 200) await flush();
    },
    async close() {
      try {
        if (size > 0) await flush();
      } finally {
        file?.close();
      }
    },
  };
}

/** --format, else the output file's extension, else JSON under --json and CSV otherwise. */
export function formatOf(options: { format?: string; output?: string }, json: boolean) {
  if (options.format) return options.format as "csv" | "json";
  if (options.output?.toLowerCase().endsWith(".json")) return "json";
  if (options.output?.toLowerCase().endsWith(".csv")) return "csv";
  return json ? "json" : "csv";
}
