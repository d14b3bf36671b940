/**
 * Node refresh budgets (issue 2): a full-size Onionoo details document (≥ 10,000 relays, ~20 MB, built from
 * the shared 2022 consensus + GeoIP, padded with synthetic relays) served gzipped on loopback.
 * Budget: parse and store < 1 s, peak RSS < 150 MB; the 304 path < 10 ms.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { buildOnionooDetails } from '../reconciler/src/testing/onionoo-fixture.js';
import { OnionooTestServer } from '../reconciler/src/testing/onionoo-server.js';
import { sharedConsensusFile, sharedGeoIpFile } from '../reconciler/src/testing/shared-data.js';

const run = promisify(execFile);
const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), 'node-refresh-child.js');
const RUNS = 5;

async function child(url: string, db: string, mode: string, ...rest: string[]): Promise<Record<string, number>> {
  const { stdout } = await run(process.execPath, [CHILD, url, db, mode, ...rest]);
  return JSON.parse(stdout) as Record<string, number>;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
}

const f1 = (n: number | undefined): string => (n ?? NaN).toFixed(1);

export async function benchNodeRefresh(): Promise<void> {
  const document = buildOnionooDetails({ synthetic: 7000 });
  const server = new OnionooTestServer(document);
  const url = await server.start();
  const work = mkdtempSync(path.join(tmpdir(), 'torfleet-bench-'));
  try {
    console.log(
      `\n## node refresh: ${document.relays.length} relays, ${(JSON.stringify(document).length / 1e6).toFixed(1)} MB of JSON, gzip on loopback`,
    );
    console.log(`median of ${RUNS} runs, each in a fresh process with a fresh SQLite file\n`);
    console.log(
      '| answer | relays | body MB | fetch+gunzip ms | parse+validate ms | store ms | whole refresh ms | RSS before MB | peak RSS MB |',
    );
    console.log('|---|---|---|---|---|---|---|---|---|');
    for (const ignoreFields of [true, false]) {
      server.ignoreFields = ignoreFields;
      const phases: Record<string, number>[] = [];
      const full: Record<string, number>[] = [];
      for (let i = 0; i < RUNS; i++) {
        phases.push(await child(url, path.join(work, `p${i}-${ignoreFields}.db`), 'phases'));
        full.push(await child(url, path.join(work, `f${i}-${ignoreFields}.db`), 'full'));
      }
      const m = (rows: Record<string, number>[], key: string): number => median(rows.map((r) => r[key] ?? NaN));
      console.log(
        `| ${ignoreFields ? 'every field (fields= ignored)' : 'fields= honoured'} | ${m(phases, 'relays')} | ${f1(m(phases, 'bytes') / 1e6)} | ${f1(m(phases, 'fetchGunzipMs'))} | ${f1(m(phases, 'parseValidateMs'))} | ${f1(m(phases, 'storeMs'))} | ${f1(m(full, 'ms'))} | ${f1(m(full, 'baselineRssMb'))} | ${f1(m(full, 'peakRssMb'))} |`,
      );
    }
    const consensus: Record<string, number>[] = [];
    for (let i = 0; i < RUNS; i++) {
      consensus.push(await child(sharedConsensusFile, path.join(work, `c${i}.db`), 'consensus', sharedGeoIpFile));
    }
    const c = (key: string): string => f1(median(consensus.map((r) => r[key] ?? NaN)));
    console.log(
      `| consensus source: the shared consensus (2.4 MB) + GeoIP file (4 MB), from disk | 6088 | 2.4 | | | | ${c('ms')} | ${c('baselineRssMb')} | ${c('peakRssMb')} |`,
    );
    const db = path.join(work, 'cond.db');
    await child(url, db, 'full');
    const notModified = await child(url, db, 'not-modified');
    console.log(
      `\n304 path (If-Modified-Since, 50 refreshes): p50 ${f1(notModified.p50)} ms, p95 ${f1(notModified.p95)} ms, max ${f1(notModified.max)} ms`,
    );
  } finally {
    await server.stop();
    rmSync(work, { recursive: true, force: true });
  }
}
