import { isIP } from 'node:net';
import type { FleetIssue } from './fleet-issue.js';
import { DEFAULT_BIND, MIN_ROTATE_SECONDS, type FleetCapacity } from './fleet-types.js';
import type { RawFleet, RawPool } from './raw-fleet.js';
import type { LocatedDocument, PathSegment } from './yaml-document.js';

export interface SemanticContext {
  readonly document: LocatedDocument;
  /** Whether the whole value at a path was one `${NAME}` reference. */
  readonly isWholeReference: (path: readonly PathSegment[]) => boolean;
  readonly capacity?: FleetCapacity | undefined;
}

export interface SemanticResult {
  readonly issues: FleetIssue[];
  readonly warnings: FleetIssue[];
}

const MAX_ROTATE_SECONDS = 24 * 3600;
const UNSPECIFIED_ADDRESSES = new Set(['0.0.0.0', '::']);

/** The checks a JSON Schema cannot express. `raw` has already passed the schema. */
export function checkSemantics(raw: RawFleet, context: SemanticContext): SemanticResult {
  const result: SemanticResult = { issues: [], warnings: [] };
  checkTor(raw, context, result);
  checkPools(raw.pools, context, result);
  return result;
}

function checkTor(raw: RawFleet, { document, isWholeReference }: SemanticContext, result: SemanticResult): void {
  const tor = raw.tor ?? {};
  const authorities = tor.dirAuthorities ?? [];
  if (tor.testingNetwork === true && authorities.length === 0) {
    result.issues.push(
      document.issueAt(
        ['tor', 'testingNetwork'],
        'testingNetwork needs dirAuthorities: TestingTorNetwork is only for a private network; list its DirAuthority lines or set testingNetwork: false',
      ),
    );
  }
  const seen = new Set<string>();
  authorities.forEach((line, i) => {
    const path = ['tor', 'dirAuthorities', i];
    const endpoint = /\s([0-9.]+):([0-9]+)\s/.exec(line);
    if (!endpoint || !isIPv4(endpoint[1] ?? '') || !isPort(Number(endpoint[2]))) {
      result.issues.push(
        document.issueAt(path, 'the IPV4:DIRPORT of this DirAuthority line is not a valid address and port'),
      );
    }
    for (const match of line.matchAll(/orport=([0-9]+)/g)) {
      if (!isPort(Number(match[1])))
        result.issues.push(document.issueAt(path, `orport=${match[1]} is not a port (1-65535)`));
    }
    if (seen.has(line)) result.issues.push(document.issueAt(path, 'this DirAuthority line is listed twice'));
    seen.add(line);
  });
  if (typeof tor.geoipFile === 'string' && tor.geoipFile.split('/').some((part) => part === '..' || part === '.')) {
    result.issues.push(
      document.issueAt(['tor', 'geoipFile'], 'geoipFile must be a plain absolute path without "." or ".." segments'),
    );
  }
  const proxy = tor.httpsProxy;
  if (proxy) {
    const match = /^\[?([^\]]+?)\]?:([0-9]+)$/.exec(proxy.address);
    if (!match || isIP(match[1] ?? '') === 0 || !isPort(Number(match[2]))) {
      result.issues.push(
        document.issueAt(
          ['tor', 'httpsProxy', 'address'],
          `${JSON.stringify(proxy.address)} is not an IP address and port (1-65535)`,
        ),
      );
    }
    if (proxy.auth !== undefined && !isWholeReference(['tor', 'httpsProxy', 'auth'])) {
      result.issues.push(
        document.issueAt(
          ['tor', 'httpsProxy', 'auth'],
          'write the credential as a reference such as "${PROXY_AUTH}" and set that variable in the reconciler\'s environment; a credential must not be committed to git',
        ),
      );
    }
  }
}

function checkPools(pools: readonly RawPool[], context: SemanticContext, result: SemanticResult): void {
  const { document } = context;
  const firstByName = new Map<string, number>();
  pools.forEach((pool, i) => {
    const at = (...rest: PathSegment[]): PathSegment[] => ['pools', i, ...rest];
    const earlier = firstByName.get(pool.name);
    if (earlier !== undefined) {
      result.issues.push(document.issueAt(at('name'), `pool name "${pool.name}" is already used by pools[${earlier}]`));
    } else {
      firstByName.set(pool.name, i);
    }

    const lastPort = pool.basePort + pool.count - 1;
    if (lastPort > 65535) {
      result.issues.push(
        document.issueAt(
          at('count'),
          `${pool.count} proxies from port ${pool.basePort} would need port ${lastPort}; ports end at 65535`,
        ),
      );
    }

    const bind = pool.bind ?? DEFAULT_BIND;
    if (isIP(bind) === 0) {
      result.issues.push(document.issueAt(at('bind'), `${JSON.stringify(bind)} is not an IPv4 or IPv6 address`));
    } else if (!isLoopback(bind)) {
      result.warnings.push(
        document.issueAt(
          at('bind'),
          `proxies bound to ${bind} are reachable from other machines, and a SOCKS port has no authentication`,
        ),
      );
    }

    checkGeo(pool, at, context, result);
    checkRotation(pool, at, document, result);
    checkCapacity(pool, at, context, result);
  });
  checkPortOverlaps(pools, document, result);
}

function checkGeo(
  pool: RawPool,
  at: (...rest: PathSegment[]) => PathSegment[],
  { document }: SemanticContext,
  result: SemanticResult,
): void {
  const exclude = pool.exclude ?? [];
  if (pool.geo === 'US' && exclude.includes('US')) {
    result.issues.push(
      document.issueAt(at('exclude'), 'geo US with US excluded leaves no country; remove US from exclude'),
    );
  }
  if (Array.isArray(pool.geo)) {
    const remaining = pool.geo.filter((country) => !exclude.includes(country));
    if (remaining.length === 0) {
      result.issues.push(
        document.issueAt(at('exclude'), 'exclude removes every country of geo; the pool could use no exit'),
      );
    }
    exclude.forEach((country, j) => {
      if (!pool.geo.includes(country)) {
        result.warnings.push(
          document.issueAt(at('exclude', j), `${country} is not in geo, so excluding it has no effect`),
        );
      }
    });
  }
}

function checkRotation(
  pool: RawPool,
  at: (...rest: PathSegment[]) => PathSegment[],
  document: LocatedDocument,
  result: SemanticResult,
): void {
  if (pool.rotateEvery === undefined) return;
  if (pool.mode !== 'rotating') {
    result.issues.push(
      document.issueAt(
        at('rotateEvery'),
        `rotateEvery applies to rotating pools only; this pool is ${pool.mode}: remove it`,
      ),
    );
    return;
  }
  const seconds = parseDuration(pool.rotateEvery);
  if (seconds < MIN_ROTATE_SECONDS || seconds > MAX_ROTATE_SECONDS) {
    result.issues.push(
      document.issueAt(
        at('rotateEvery'),
        `${pool.rotateEvery} is outside the allowed range ${MIN_ROTATE_SECONDS}s to 24h`,
      ),
    );
  }
}

function checkCapacity(
  pool: RawPool,
  at: (...rest: PathSegment[]) => PathSegment[],
  { document, capacity }: SemanticContext,
  result: SemanticResult,
): void {
  if (!capacity || pool.count === 0) return;
  const exclude = pool.exclude ?? [];
  const geo = Array.isArray(pool.geo) ? pool.geo.join(', ') : pool.geo;
  if (pool.mode === 'strict') {
    const exits = capacity.exitsFor(pool.geo, exclude);
    if (pool.count > exits) {
      result.issues.push(
        document.issueAt(
          at('count'),
          `${pool.count} strict proxies need ${pool.count} distinct exits, but the node database has only ever known ${exits} in ${geo}; lower count or widen geo`,
        ),
      );
    }
  } else if (pool.mode === 'flexible') {
    const groups = capacity.groupsFor(pool.geo, exclude);
    if (pool.count > groups) {
      result.issues.push(
        document.issueAt(
          at('count'),
          `${pool.count} flexible proxies need ${pool.count} distinct /16 exit groups, but the node database has only ever known ${groups} in ${geo}; lower count or widen geo`,
        ),
      );
    }
  }
}

function checkPortOverlaps(pools: readonly RawPool[], document: LocatedDocument, result: SemanticResult): void {
  pools.forEach((pool, i) => {
    if (pool.count === 0) return;
    for (let j = 0; j < i; j++) {
      const other = pools[j];
      if (!other || other.count === 0 || !bindsCollide(pool.bind ?? DEFAULT_BIND, other.bind ?? DEFAULT_BIND)) continue;
      const start = Math.max(pool.basePort, other.basePort);
      const end = Math.min(pool.basePort + pool.count, other.basePort + other.count) - 1;
      if (start <= end) {
        result.issues.push(
          document.issueAt(
            ['pools', i, 'basePort'],
            `ports ${pool.basePort}-${pool.basePort + pool.count - 1} overlap ports ${other.basePort}-${other.basePort + other.count - 1} of pool "${other.name}" (pools[${j}]) at ${start}; move basePort`,
          ),
        );
        return;
      }
    }
  });
}

/** Two binds clash on a port when they are the same address or either listens on every address. */
function bindsCollide(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase() || UNSPECIFIED_ADDRESSES.has(a) || UNSPECIFIED_ADDRESSES.has(b);
}

/** `30s`, `10m`, `1h` → seconds. The schema has already checked the form. */
export function parseDuration(text: string): number {
  const unit = text.slice(-1);
  const amount = Number(text.slice(0, -1));
  return amount * (unit === 'h' ? 3600 : unit === 'm' ? 60 : 1);
}

function isIPv4(text: string): boolean {
  return isIP(text) === 4;
}

function isPort(port: number): boolean {
  return Number.isInteger(port) && port >= 1 && port <= 65535;
}

function isLoopback(address: string): boolean {
  return address.startsWith('127.') || address === '::1';
}
