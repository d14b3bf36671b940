/**
 * One measured refresh in a fresh process, so peak RSS is the refresh's own.
 * argv: ONIONOO_URL DB_FILE MODE (full | phases | not-modified), or CONSENSUS_FILE DB_FILE consensus GEOIP_FILE
 * Prints one JSON line.
 */
import { performance } from 'node:perf_hooks';
import { fetchDocument } from '../reconciler/src/http-client/fetch-document.js';
import { createConsensusSource } from '../reconciler/src/nodes/consensus-source.js';
import { NodeStore } from '../reconciler/src/nodes/node-store.js';
import { onionooDetailsUrl, createOnionooSource } from '../reconciler/src/nodes/onionoo-source.js';
import { parseOnionooDetails } from '../reconciler/src/nodes/onionoo-details.js';
import { refreshNodes } from '../reconciler/src/nodes/refresh-nodes.js';

const [url = '', db = '', mode = 'full', geoip = ''] = process.argv.slice(2);
const mb = (bytes: number): number => Math.round((bytes / 1024 / 1024) * 10) / 10;

const store = NodeStore.open(db);
const source = mode === 'consensus' ? createConsensusSource(url, geoip) : createOnionooSource(url);
const baselineRssMb = mb(process.memoryUsage().rss);

if (mode === 'full' || mode === 'consensus') {
  const start = performance.now();
  const outcome = await refreshNodes({ source, store });
  const ms = performance.now() - start;
  console.log(
    JSON.stringify({
      mode,
      ms,
      baselineRssMb,
      peakRssMb: mb(process.resourceUsage().maxRSS * 1024),
      outcome: outcome.kind,
    }),
  );
} else if (mode === 'phases') {
  const t0 = performance.now();
  const response = await fetchDocument(onionooDetailsUrl(url), { what: 'bench' });
  const t1 = performance.now();
  const snapshot = parseOnionooDetails(response.body, 'bench');
  const t2 = performance.now();
  store.storeSnapshot(source, snapshot, null, new Date(), new Date());
  const t3 = performance.now();
  console.log(
    JSON.stringify({
      mode,
      bytes: response.body.length,
      relays: snapshot.relays.length,
      fetchGunzipMs: t1 - t0,
      parseValidateMs: t2 - t1,
      storeMs: t3 - t2,
    }),
  );
} else {
  // 304 path: the DB already holds this source's checkpoint; time many conditional refreshes.
  const times: number[] = [];
  for (let i = 0; i < 50; i++) {
    const start = performance.now();
    const outcome = await refreshNodes({ source, store });
    times.push(performance.now() - start);
    if (outcome.kind !== 'not_modified') throw new Error('expected 304');
  }
  times.sort((a, b) => a - b);
  console.log(JSON.stringify({ mode, p50: times[25], p95: times[47], max: times[49] }));
}
store.close();
