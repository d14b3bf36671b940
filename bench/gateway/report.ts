/** The gateway bench's Markdown: figures (medians over rounds), budgets met / not met, the event-loop question. */
import type { StallFigures } from './event-loop-stall.js';
import type { ProxyRound, WrkKey } from './measure-round.js';
import type { ProxyUnderTest } from './proxies-under-test.js';
import { median } from './stats.js';

export interface ProxyResults {
  readonly proxy: ProxyUnderTest;
  readonly rounds: ProxyRound[];
  readonly failures: string[];
}

const dash = (n: number, text: string): string => (Number.isFinite(n) ? text : '–');
const int = (n: number): string => dash(n, Math.round(n).toLocaleString('en-US'));
const f1 = (n: number): string => dash(n, n.toFixed(1));
const f2 = (n: number): string => dash(n, n.toFixed(2));

function m(results: ProxyResults, pick: (round: ProxyRound) => number | undefined): number {
  return median(results.rounds.map((round) => pick(round) ?? NaN));
}

function wrkCell(results: ProxyResults, key: WrkKey): string {
  const rps = m(results, (r) => r.wrk[key]?.perSecond);
  if (!Number.isFinite(rps)) return '–';
  return `${int(rps)} (${f1(m(results, (r) => r.wrk[key]?.p50Ms))} / ${f1(m(results, (r) => r.wrk[key]?.p99Ms))})`;
}

export function figuresTables(all: readonly ProxyResults[]): string[] {
  const lines = [
    '| proxy | keep-alive 1 KiB ×10 | keep-alive 1 KiB ×100 | keep-alive 1 MiB ×10 | keep-alive 1 MiB ×100 | `Connection: close` 1 KiB ×10 | CPU µs/req (ka 1 KiB ×100) | CPU µs/req (close) |',
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const r of all.filter((x) => x.proxy.kind === 'http' && x.proxy.connectOnly !== true && x.rounds.length > 0)) {
    const cells = (['ka-1k-10', 'ka-1k-100', 'ka-1m-10', 'ka-1m-100', 'close-1k-10'] as const).map((k) =>
      wrkCell(r, k),
    );
    const cpu = (k: WrkKey): string => f1(m(r, (x) => x.wrk[k]?.cpuUsPerRequest));
    lines.push(`| ${r.proxy.name} | ${cells.join(' | ')} | ${cpu('ka-1k-100')} | ${cpu('close-1k-10')} |`);
  }
  lines.push('', 'req/s (p50 / p99 ms), wrk -t1, absolute-URI requests to the proxy.', '');
  lines.push(
    '| proxy | tunnels/s sequential | tunnels/s 50 in flight | setup p50 / p99 ms (50 in flight) | setup p99 ms (sequential) | plain GET p50 ms | added p50 ms vs direct | start ms | RSS at start / settled MB | RSS 500 tunnels MB | RSS 1,000 tunnels MB |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
  );
  const direct = all.find((x) => x.proxy.kind === 'socks');
  const directP50 = direct ? m(direct, (x) => x.plainGetP50Ms) : NaN;
  for (const r of all.filter((x) => x.rounds.length > 0)) {
    const p50 = m(r, (x) => x.plainGetP50Ms);
    const added = r.proxy.kind === 'socks' ? '(baseline)' : f2(p50 - directP50);
    lines.push(
      `| ${r.proxy.name} | ${int(m(r, (x) => x.tunnelsSequential.perSecond))} | ${int(m(r, (x) => x.tunnelsAt50.perSecond))} | ` +
        `${f2(m(r, (x) => x.tunnelsAt50.setupP50Ms))} / ${f2(m(r, (x) => x.tunnelsAt50.setupP99Ms))} | ` +
        `${f2(m(r, (x) => x.tunnelsSequential.setupP99Ms))} | ${f2(p50)} | ${added} | ${f1(m(r, (x) => x.startMs))} | ` +
        `${f1(m(r, (x) => x.idleRssMb))} / ${f1(m(r, (x) => x.settledRssMb))} | ${f1(m(r, (x) => x.rss500Mb))} | ` +
        `${f1(m(r, (x) => x.rss1000Mb))} |`,
    );
  }
  return lines;
}

/** Anything a reader must know to trust the figures: failed rounds, non-2xx answers, socket errors, tunnel failures. */
export function notes(all: readonly ProxyResults[]): string[] {
  const lines: string[] = [];
  for (const r of all) {
    const how = r.rounds.length === 0 ? 'not measured' : 'a round failed';
    for (const failure of r.failures) lines.push(`- ${r.proxy.name}: ${how}: ${failure}`);
    if (r.proxy.kind === 'socks' && r.rounds.length > 0) {
      lines.push(
        `- ${r.proxy.name}: RSS is the shared microsocks's (it also carries every other proxy's traffic in the run)`,
      );
    }
    const sum = (pick: (round: ProxyRound) => number): number => r.rounds.reduce((s, x) => s + pick(x), 0);
    const wrkSum = (pick: (w: { badStatus: number; socketErrors: number }) => number): number =>
      sum((x) => Object.values(x.wrk).reduce((s, w) => s + pick(w), 0));
    const bad = wrkSum((w) => w.badStatus);
    const socket = wrkSum((w) => w.socketErrors);
    const tunnels = sum((x) => x.tunnelsSequential.failures + x.tunnelsAt50.failures);
    if (bad + socket + tunnels > 0) {
      const first = r.rounds.map((x) => x.tunnelsAt50.firstFailure ?? x.tunnelsSequential.firstFailure).find(Boolean);
      lines.push(
        `- ${r.proxy.name}: wrk non-2xx ${bad}, wrk socket errors ${socket}, failed tunnels ${tunnels}${first ? ` (first: ${first})` : ''}`,
      );
    }
  }
  return lines;
}

export function budgetTable(all: readonly ProxyResults[]): string[] {
  const named = (name: string): ProxyResults | undefined =>
    all.find((x) => x.proxy.name === name && x.rounds.length > 0);
  const subject = named('torfleet gateway');
  const privoxy = named('privoxy');
  const direct = all.find((x) => x.proxy.kind === 'socks' && x.rounds.length > 0);
  if (!subject) return ['No budget table: the gateway completed no round.'];
  const s = (pick: (round: ProxyRound) => number | undefined): number => m(subject, pick);
  const p = (pick: (round: ProxyRound) => number | undefined): number => (privoxy ? m(privoxy, pick) : NaN);
  const rows: [string, string, string, boolean][] = [];
  for (const key of ['ka-1k-10', 'ka-1k-100', 'ka-1m-10', 'ka-1m-100'] as const) {
    const got = s((x) => x.wrk[key]?.perSecond);
    const need = p((x) => x.wrk[key]?.perSecond);
    rows.push([`keep-alive req/s ${key.slice(3)} ≥ privoxy's`, int(got), `≥ ${int(need)}`, got >= need]);
  }
  const connect = s((x) => x.tunnelsAt50.perSecond);
  const privoxyConnect = p((x) => x.tunnelsAt50.perSecond);
  rows.push([
    'CONNECT/s at 50 in flight ≥ 1.5 × privoxy',
    int(connect),
    `≥ ${int(1.5 * privoxyConnect)}`,
    connect >= 1.5 * privoxyConnect,
  ]);
  const setup = s((x) => x.tunnelsAt50.setupP99Ms);
  const privoxySetup = p((x) => x.tunnelsAt50.setupP99Ms);
  rows.push([
    'setup p99 (50 in flight) ≤ privoxy',
    `${f2(setup)} ms`,
    `≤ ${f2(privoxySetup)} ms`,
    setup <= privoxySetup,
  ]);
  const settled = s((x) => x.settledRssMb);
  const atStart = s((x) => x.idleRssMb);
  rows.push(['idle RSS < 50 MB (settled)', `${f1(settled)} MB (${f1(atStart)} at start)`, '< 50 MB', settled < 50]);
  const rss1000 = s((x) => x.rss1000Mb);
  rows.push(['RSS at 1,000 open tunnels < 100 MB', `${f1(rss1000)} MB`, '< 100 MB', rss1000 < 100]);
  const start = s((x) => x.startMs);
  rows.push(['start (spawn → port accepts) < 1 s', `${f1(start)} ms`, '< 1000 ms', start < 1000]);
  const added = s((x) => x.plainGetP50Ms) - (direct ? m(direct, (x) => x.plainGetP50Ms) : NaN);
  rows.push(['added latency p50 vs direct SOCKS < 1 ms', `${f2(added)} ms`, '< 1 ms', added < 1]);
  return [
    `Budgets of issue 10, for **${subject.proxy.name}**:`,
    '',
    '| budget | measured | needed | |',
    '|---|---|---|---|',
    ...rows.map(([what, got, need, met]) => {
      const verdict = `${got} ${need}`.includes('–') ? 'not measured' : met ? 'met' : '**not met**';
      return `| ${what} | ${got} | ${need} | ${verdict} |`;
    }),
  ];
}

export function stallTable(
  idle: readonly StallFigures[],
  busy: readonly StallFigures[],
  worker: readonly StallFigures[],
): string[] {
  const row = (label: string, runs: readonly StallFigures[]): string =>
    `| ${label} | ${int(median(runs.map((r) => r.tunnels)))} | ${int(median(runs.map((r) => r.failures)))} | ` +
    `${f2(median(runs.map((r) => r.p50Ms)))} | ` +
    `${f2(median(runs.map((r) => r.p99Ms)))} | ${f1(median(runs.map((r) => r.maxMs)))} |`;
  return [
    '| gateway, main thread | tunnels (one every 10 ms) | failed | p50 ms | p99 ms | max ms |',
    '|---|---|---|---|---|---|',
    row('gateway on the main thread, main thread free', idle),
    row(`gateway on the main thread, main thread busy ${String(busy[0]?.busyMs ?? '?')} ms every 1 s`, busy),
    row(`gateway in its worker thread, main thread busy ${String(worker[0]?.busyMs ?? '?')} ms every 1 s`, worker),
  ];
}
