import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { createBrokerServer } from '../broker/broker-http.js';
import { createBrokerParts } from '../broker/broker-parts.js';
import { parseClientTokens } from '../broker/client-tokens.js';
import type { FallbackPolicy } from '../broker/lease-answer.js';
import type { GeoSelector } from '../fleet/fleet-types.js';
import { parseListenSetting } from '../listen-address.js';
import { silentLogger } from '../logger.js';
import { openNodeDatabase } from '../nodes/node-db-file.js';
import { tokenDigest } from '../token-digest.js';

/**
 * The fixture broker of the conformance suite (clients/PROTOCOL.md): the real broker service and HTTP server on a
 * fixed fleet from a fixture (no tor, no Docker), leases in an in-memory database.
 * `node fixture-broker.js FILE [--suite NAME] [--tls CERT KEY] [--db FILE]` (default: an in-memory database); prints `{"url": ...}` once listening; ends on
 * SIGTERM, SIGINT or when stdin closes.
 */
export interface BrokerFixture {
  readonly proxies: readonly {
    readonly proxy_id: string;
    readonly pool: string;
    readonly geo: GeoSelector;
    readonly countries: readonly string[];
    readonly host: string;
    readonly port: number;
  }[];
  readonly regions?: Readonly<Record<string, string>>;
  readonly clients: readonly { readonly name: string; readonly token: string }[];
  readonly rate?: { readonly per_second: number; readonly burst: number };
  readonly ttl_seconds?: number;
  readonly fallback_policy?: FallbackPolicy;
  readonly listen?: string;
}

export function fixtureOf(file: string, suite: string | undefined): BrokerFixture {
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as {
    suites?: { name: string; fixture: BrokerFixture }[];
  } & BrokerFixture;
  if (!parsed.suites) return parsed;
  const found = parsed.suites.find((entry) => entry.name === suite);
  if (!found) {
    throw new Error(
      `${file}: no suite ${JSON.stringify(suite)}; suites: ${parsed.suites.map((s) => s.name).join(', ')}`,
    );
  }
  return found.fixture;
}

function main(argv: readonly string[]): void {
  const [file, ...rest] = argv;
  if (file === undefined) throw new Error('usage: fixture-broker.js FILE [--suite NAME] [--tls CERT KEY]');
  const at = (flag: string): number => rest.indexOf(flag);
  const suite = at('--suite') >= 0 ? rest[at('--suite') + 1] : undefined;
  const tls =
    at('--tls') >= 0
      ? { cert: readFileSync(rest[at('--tls') + 1] ?? ''), key: readFileSync(rest[at('--tls') + 2] ?? '') }
      : null;
  const fixture = fixtureOf(file, suite);
  const tokens = parseClientTokens(
    'fixture clients',
    fixture.clients.map((client) => `${client.name} ${tokenDigest(client.token).toString('hex')}`).join('\n'),
  );
  if (!tokens.ok) throw new Error(tokens.errors.join('; '));
  const dbFile = at('--db') >= 0 ? (rest[at('--db') + 1] ?? ':memory:') : ':memory:';
  const { db } = openNodeDatabase(dbFile, () => new Date(), silentLogger);
  const { service, metrics } = createBrokerParts({
    db,
    leaseTtlSeconds: fixture.ttl_seconds ?? 300,
    fallback: fixture.fallback_policy ?? 'fail',
    log: silentLogger,
  });
  service.setFleet({
    proxies: fixture.proxies.map((proxy) => ({
      proxyId: proxy.proxy_id,
      pool: proxy.pool,
      geo: proxy.geo,
      exclude: [],
      exitCountries: proxy.countries,
      host: proxy.host,
      port: proxy.port,
      mode: 'strict' as const,
      exitFingerprints: [],
    })),
    pools: [...new Set(fixture.proxies.map((proxy) => proxy.pool))],
    regions: fixture.regions ?? {},
  });
  const server = createBrokerServer({
    service,
    tokens: () => tokens.tokens,
    metrics,
    rate: fixture.rate
      ? { perSecond: fixture.rate.per_second, burst: fixture.rate.burst }
      : { perSecond: 1000, burst: 2000 },
    now: Date.now,
    log: silentLogger,
    tls,
  });
  const listen =
    fixture.listen === undefined ? { host: '127.0.0.1', port: 0 } : parseListenSetting('listen', fixture.listen);
  const stop = (): void => {
    server.closeAllConnections();
    server.close();
    db.close();
    process.exit(0);
  };
  server.listen(listen.port, listen.host, () => {
    const { address, port } = server.address() as AddressInfo;
    const host = address.includes(':') ? `[${address}]` : address;
    process.stdout.write(`${JSON.stringify({ url: `${tls ? 'https' : 'http'}://${host}:${String(port)}` })}\n`);
  });
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.stdin.on('end', stop);
  process.stdin.on('close', stop);
  process.stdin.resume();
}

main(process.argv.slice(2));
