import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ProxyServiceClient } from './client.js';
import { startFixture, type RunningFixture } from './fixture.js';
import type { ClientOptions } from './options.js';
import { PATHS } from './transport.js';

/** Helpers of this client's tests: fixture files, raw TCP peers on loopback, clients closed after each test. */

/** Every time bound the requirements give (fallback within 1 s, a dead endpoint within 2 s) is asserted at 2x. */
export const SLACK = 2;
export const FALLBACK = { regions: { US: ['socks5h://127.0.0.1:29050'], '*': ['socks5h://127.0.0.1:29999'] } };

export const PROXY = (id: string, port: number, geo: unknown = 'US', countries = ['US']): Record<string, unknown> => ({
  proxy_id: id,
  pool: id.replace(/-\d+$/, ''),
  geo,
  countries,
  host: '127.0.0.1',
  port,
});

/** A fixture of its own (the fixture broker takes a bare fixture as well as a cases file). */
export interface FixtureSpec {
  readonly port?: number;
  readonly ttl?: number;
  readonly policy?: 'fail' | 'direct_connection' | 'embedded';
  readonly rate?: { per_second: number; burst: number };
}

/** Cleanups run after each test, last first. */
export class Scope {
  readonly #cleanups: (() => unknown)[] = [];
  readonly dir = mkdtempSync(path.join(tmpdir(), 'torfleet-tsclient-test-'));

  /** `defaults`: options of every client made here (tests that need the service to answer give it more time). */
  constructor(private readonly defaults: ClientOptions = {}) {
    this.defer(() => {
      rmSync(this.dir, { recursive: true, force: true });
    });
  }

  defer(cleanup: () => unknown): void {
    this.#cleanups.push(cleanup);
  }

  async close(): Promise<void> {
    for (const cleanup of this.#cleanups.reverse()) await cleanup();
  }

  file(name: string, text: string): string {
    const at = path.join(this.dir, name);
    writeFileSync(at, text);
    return at;
  }

  /** The fixture broker on a fleet of one US proxy on `port` (the leases' proxy URLs end in it). */
  async fixture(spec: FixtureSpec = {}): Promise<RunningFixture> {
    const file = this.file(
      `fixture-${String(Math.random()).slice(2)}.json`,
      JSON.stringify({
        proxies: [PROXY('us-0', spec.port ?? 19050)],
        clients: [
          { name: 'collector', token: 't-collector' },
          { name: 'other', token: 't-other' },
        ],
        ttl_seconds: spec.ttl ?? 300,
        fallback_policy: spec.policy ?? 'fail',
        ...(spec.rate ? { rate: spec.rate } : {}),
      }),
    );
    const running = await startFixture('', { file });
    this.defer(() => running.stop());
    // One call first (as client `other`, whose rate is its own), so the first call of a test does not pay for
    // the service's warm-up on two shared cores.
    const warm = new ProxyServiceClient({ endpoints: [running.url], token: 't-other' });
    await warm.call('GET', PATHS.health);
    await warm.close();
    return running;
  }

  client(endpoints: readonly string[] | undefined, options: ClientOptions = {}): ProxyServiceClient {
    const client = new ProxyServiceClient({
      ...(endpoints ? { endpoints } : {}),
      token: 't-collector',
      fallback: FALLBACK,
      ...this.defaults,
      ...options,
    });
    this.defer(() => client.close(0.5));
    return client;
  }

  /** A TCP peer on loopback that runs `behave` on each connection once it has sent something. */
  async peer(behave: (socket: Socket, stopped: AbortSignal) => void): Promise<string> {
    const stop = new AbortController();
    const sockets = new Set<Socket>();
    const server: Server = createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => undefined);
      socket.once('data', () => {
        behave(socket, stop.signal);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.defer(
      () =>
        new Promise<void>((resolve) => {
          stop.abort();
          for (const socket of sockets) socket.destroy();
          server.close(() => {
            resolve();
          });
        }),
    );
    const address = server.address();
    return `http://127.0.0.1:${String(typeof address === 'object' && address ? address.port : 0)}`;
  }
}

/** A loopback URL where nothing listens (a port bound, then let go). */
export async function refusedUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => {
    server.close(() => {
      resolve();
    });
  });
  return `http://127.0.0.1:${String(typeof address === 'object' && address ? address.port : 0)}`;
}

export async function waitFor(predicate: () => boolean | Promise<boolean>, seconds: number): Promise<boolean> {
  const end = performance.now() + seconds * 1000;
  while (performance.now() < end) {
    if (await predicate()) return true;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return predicate();
}

export const elapsed = (since: number): number => (performance.now() - since) / 1000;

/** Stops (SIGSTOP: the kernel still accepts connections, nothing answers) or continues a fixture broker. */
export function signal(fixture: RunningFixture, name: 'SIGSTOP' | 'SIGCONT'): void {
  if (fixture.child.pid !== undefined) process.kill(fixture.child.pid, name);
}
