/**
 * wrk against an HTTP proxy: wrk has no proxy option, so a Lua script makes it send absolute-URI requests
 * (`GET http://ORIGIN/1k`) to the proxy's own address, the way an HTTP proxy is load-tested with wrk. The script's
 * done() prints one line of JSON that parseWrkSummary reads.
 */
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export function wrkScript(originPort: number, file: string, connectionClose: boolean): string {
  return [
    `wrk.path = "http://127.0.0.1:${originPort}/${file}"`,
    `wrk.headers["Host"] = "127.0.0.1:${originPort}"`,
    connectionClose ? `wrk.headers["Connection"] = "close"` : '',
    'done = function(summary, latency, requests)',
    '  local e = summary.errors',
    '  io.write(string.format(\'WRKJSON {"requests":%d,"durationUs":%d,"connect":%d,"read":%d,"write":%d,' +
      '"status":%d,"timeout":%d,"p50Us":%d,"p99Us":%d}\\n\', summary.requests, summary.duration, e.connect, e.read,' +
      ' e.write, e.status, e.timeout, latency:percentile(50), latency:percentile(99)))',
    'end',
    '',
  ].join('\n');
}

export interface WrkSummary {
  readonly requests: number;
  readonly perSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Answers that were not 2xx/3xx: a proxy that fails the request, not one that is slow. */
  readonly badStatus: number;
  /** connect/read/write/timeout errors (tinyproxy closes every client connection after one answer: read errors). */
  readonly socketErrors: number;
}

export function parseWrkSummary(stdout: string): WrkSummary {
  const line = stdout.split('\n').find((l) => l.startsWith('WRKJSON '));
  if (line === undefined) throw new Error(`wrk printed no WRKJSON line: ${stdout.slice(-300)}`);
  const r = JSON.parse(line.slice('WRKJSON '.length)) as Record<string, number>;
  const n = (key: string): number => r[key] ?? NaN;
  return {
    requests: n('requests'),
    perSecond: n('requests') / (n('durationUs') / 1e6),
    p50Ms: n('p50Us') / 1000,
    p99Ms: n('p99Us') / 1000,
    badStatus: n('status'),
    socketErrors: n('connect') + n('read') + n('write') + n('timeout'),
  };
}

export interface WrkRun {
  readonly proxyPort: number;
  readonly originPort: number;
  readonly file: '1k' | '1m';
  readonly connections: number;
  readonly seconds: number;
  readonly connectionClose: boolean;
}

/** One `wrk -t1 -cN -dS --latency -s SCRIPT http://127.0.0.1:PROXY`; the script is written into `dir`. */
export async function runWrk(dir: string, spec: WrkRun): Promise<WrkSummary> {
  const script = path.join(dir, `wrk-${spec.file}-${spec.connectionClose ? 'close' : 'ka'}.lua`);
  writeFileSync(script, wrkScript(spec.originPort, spec.file, spec.connectionClose));
  const args = ['-t1', `-c${spec.connections}`, `-d${spec.seconds}s`, '--latency', '-s', script];
  const { stdout } = await run('wrk', [...args, `http://127.0.0.1:${spec.proxyPort}`], {
    timeout: (spec.seconds + 30) * 1000,
  });
  return parseWrkSummary(stdout);
}
