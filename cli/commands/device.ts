// simfluence device [show] | tune: the adapter the service computes on, where its kernels run
// (WebGPU or the CPU backend) and its matmul kernel choice; tuning measures the candidates again
// (a job, followed).
import { Command } from "commander";
import { contextOf } from "../context.ts";
import { followJob, requireSucceeded } from "../follow.ts";
import { printJson, printTable } from "../output.ts";

interface Device {
  vendor: string;
  device: string;
  description: string;
  backend: string;
  isFallbackAdapter: boolean;
  softwareFallback?: boolean;
  kernelConfig: Record<string, unknown>;
  /** Where the kernels run; absent from services older than the CPU backend. */
  computeBackend?: { name: string; reason: string } | null;
  linearAlgebra?: { backend: string };
}

function printDevice(d: Device): void {
  printTable(["field", "value"], [
    ["adapter", d.description || d.device],
    ["vendor", d.vendor],
    ["backend", d.backend],
    ["software", String(d.softwareFallback ?? d.isFallbackAdapter)],
    ...(d.computeBackend
      ? [
        ["kernels on", `${d.computeBackend.name} (${d.computeBackend.reason})`] as [string, string],
      ]
      : []),
    ...(d.linearAlgebra ? [["linear algebra", d.linearAlgebra.backend] as [string, string]] : []),
    ...kernelRows(d.kernelConfig, "kernels"),
  ]);
}

/** Nested kernel settings one row each; a chosen kernel shows by its name. */
function kernelRows(config: Record<string, unknown>, prefix: string): [string, string][] {
  return Object.entries(config).flatMap(([key, value]): [string, string][] => {
    const name = `${prefix}.${key}`;
    if (value === null || typeof value !== "object" || Array.isArray(value)) {
      return [[name, typeof value === "string" ? value : JSON.stringify(value)]];
    }
    const named = (value as { name?: unknown }).name;
    if (typeof named === "string") return [[name, named]];
    return kernelRows(value as Record<string, unknown>, name);
  });
}

export function deviceCommand(): Command {
  const device = new Command("device").description("the service's GPU adapter and kernel choice");

  device.command("show", { isDefault: true })
    .action(async (_options, command: Command) => {
      const ctx = contextOf(command);
      const d = await ctx.client.get<Device>("/v1/device");
      if (ctx.json) return printJson(d);
      printDevice(d);
    });

  device.command("tune")
    .description("measure the matmul kernel candidates again (a job), then show the choice")
    .option("--quick", "fewer repeats")
    .option("--no-follow", "print the job id and return at once")
    .action(async (options, command: Command) => {
      const ctx = contextOf(command);
      const { job } = await ctx.client.post<{ job: string }>("/v1/device/tune", {
        quick: options.quick === true,
      });
      if (!options.follow) return ctx.json ? printJson({ job }) : console.log(`job ${job}`);
      requireSucceeded(await followJob(ctx, job, "tune"));
      const d = await ctx.client.get<Device>("/v1/device");
      if (ctx.json) return printJson(d);
      printDevice(d);
    });

  return device;
}
