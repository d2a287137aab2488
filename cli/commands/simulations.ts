// simfluence simulations list|cancel: the simulations the service keeps for browser clients
// (POST /v1/simulations), running or finished within the replay window.
import { Command } from "commander";
import { contextOf } from "../context.ts";
import { integer } from "../ids.ts";
import { note, pageNote, printJson, printTable } from "../output.ts";

interface Simulation {
  id: string;
  simulator: string;
  status: string;
  steps: number;
  totalSteps: number;
  watchers: number;
  createdAt: string;
}

export function simulationsCommand(): Command {
  const simulations = new Command("simulations")
    .description("simulations kept for browser clients: list, cancel");

  simulations.command("list")
    .option("--limit <n>", "page size", integer, 20)
    .option("--offset <n>", "skip this many", integer, 0)
    .action(async (options, command: Command) => {
      const ctx = contextOf(command);
      const page = await ctx.client.get<{ simulations: Simulation[]; total: number }>(
        "/v1/simulations",
        { limit: options.limit, offset: options.offset },
      );
      if (ctx.json) return printJson(page);
      printTable(
        ["id", "simulator", "status", "steps", "watchers", "created"],
        page.simulations.map((s) => [
          s.id,
          s.simulator,
          s.status,
          `${s.steps}/${s.totalSteps}`,
          s.watchers,
          s.createdAt.slice(0, 19),
        ]),
      );
      note(`simulations ${pageNote(page.simulations.length, options.offset, page.total)}`);
    });

  simulations.command("cancel")
    .description("stop a running simulation, or forget a finished one")
    .argument("<simulation>", "simulation id")
    .action(async (id: string, _options, command: Command) => {
      const ctx = contextOf(command);
      await ctx.client.delete(`/v1/simulations/${encodeURIComponent(id)}`);
      if (ctx.json) printJson({ cancelled: [id] });
      else console.log(`simulation ${id} cancelled`);
    });

  return simulations;
}
