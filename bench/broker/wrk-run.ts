/** wrk (the Debian package) as the load generator: one run with a Lua script, its figures parsed. */
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface WrkFigures {
  readonly requestsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Answers that were not 2xx (must be 0 for a figure to count). */
  readonly non2xx: number;
  readonly errors: number;
}

/** `wrk --latency` duration from its text (`1.23ms`, `850.00us`, `1.02s`) in ms. */
export function durationMs(text: string): number {
  const match = /^([\d.]+)(us|ms|s|m)$/.exec(text.trim());
  if (!match) throw new Error(`wrk: not a duration: ${text}`);
  const value = Number(match[1]);
  return match[2] === 'us'
    ? value / 1000
    : match[2] === 'ms'
      ? value
      : match[2] === 's'
        ? value * 1000
        : value * 60_000;
}

export function parseWrk(output: string): WrkFigures {
  const rate = /Requests\/sec:\s+([\d.]+)/.exec(output)?.[1];
  const p50 = /^\s+50%\s+(\S+)$/m.exec(output)?.[1];
  const p99 = /^\s+99%\s+(\S+)$/m.exec(output)?.[1];
  if (!rate || !p50 || !p99) throw new Error(`wrk: unexpected output:\n${output}`);
  const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(output)?.[1] ?? 0);
  const errors = [...output.matchAll(/(connect|read|write|timeout) (\d+)/g)].reduce((sum, m) => sum + Number(m[2]), 0);
  return { requestsPerSecond: Number(rate), p50Ms: durationMs(p50), p99Ms: durationMs(p99), non2xx, errors };
}

/** A Lua script for wrk sending POST `route` with bodies from `body(thread, counter)` (a Lua expression). */
export function postScript(dir: string, name: string, route: string, token: string, bodyExpression: string): string {
  const file = path.join(dir, `${name}.lua`);
  writeFileSync(
    file,
    `local threads = 0
function setup(thread) threads = threads + 1; thread:set("tid", threads) end
counter = 0
headers = { ["Authorization"] = "Bearer ${token}", ["Content-Type"] = "application/json" }
function request()
  counter = counter + 1
  return wrk.format("POST", "${route}", headers, ${bodyExpression})
end
`,
  );
  return file;
}

export async function wrk(url: string, script: string, connections: number, seconds: number): Promise<WrkFigures> {
  const { stdout } = await run(
    'wrk',
    ['-t2', `-c${String(connections)}`, `-d${String(seconds)}s`, '--latency', '--timeout', '5s', '-s', script, url],
    { maxBuffer: 1 << 20 },
  );
  return parseWrk(stdout);
}
