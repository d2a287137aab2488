// What every command gets from the global options: the client and whether to print JSON.
import type { Command } from "commander";
import { Client, DEFAULT_URL, TOKEN_ENV, URL_ENV } from "./client.ts";

export interface Context {
  client: Client;
  /** Print machine-readable JSON on stdout (and nothing else there). */
  json: boolean;
}

export function contextOf(command: Command): Context {
  const options = command.optsWithGlobals<{ url?: string; json?: boolean }>();
  const url = options.url ?? Deno.env.get(URL_ENV) ?? DEFAULT_URL;
  const token = Deno.env.get(TOKEN_ENV) ?? null;
  return { client: new Client(url, token || null), json: options.json === true };
}
