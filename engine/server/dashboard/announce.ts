import { promises as fs } from "node:fs";

/**
 * The line `lifeboat serve` prints about the dashboard. On a terminal (a person reading, not a log) the
 * URL carries the admin token in its fragment, ready to open: browsers never send the fragment to the
 * server and the page moves it to sessionStorage at once. Anywhere else (journald, a log file) the token
 * is never printed: the line names the file to take it from.
 */
export async function dashboardLine(baseUrl: string, tokenFile: string, onTerminal: boolean): Promise<string> {
  const url = `${baseUrl}/`;
  const token = onTerminal ? (await fs.readFile(tokenFile, "utf8").catch(() => "")).trim() : "";
  if (token) return `dashboard at ${url}#token=${encodeURIComponent(token)}`;
  return `dashboard at ${url} (sign in with the admin token in ${tokenFile})`;
}
