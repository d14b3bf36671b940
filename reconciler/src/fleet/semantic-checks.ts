import { DURATION_EXAMPLES, parseDuration } from '../duration.js';
import { dirAuthorityProblems } from './dir-authority.js';
import type { EnvOrigins } from './env-origin.js';
import type { FleetIssue } from './fleet-issue.js';
import { DEFAULT_BIND, MIN_ROTATE_SECONDS, type FleetCapacity } from './fleet-types.js';
import { checkBroker } from './broker-checks.js';
import { checkGateway } from './gateway-checks.js';
import { checkPacking } from './packing-checks.js';
import { addressesOverlap, canonicalAddress, isLoopbackAddress, parseEndpoint } from './ip-address.js';
import type { RawFleet, RawPool } from './raw-fleet.js';
import type { LocatedDocument, PathSegment } from './yaml-document.js';

export interface SemanticContext {
  readonly document: LocatedDocument;
  /** Which values came from the environment: messages show those as `[from ${NAME}]`. */
  readonly origins: EnvOrigins;
  readonly capacity?: FleetCapacity | undefined;
}

export interface SemanticResult {
  readonly issues: FleetIssue[];
  readonly warnings: FleetIssue[];
}

const MAX_ROTATE_SECONDS = 24 * 3600;

/** The checks a JSON Schema cannot express. `raw` has already passed the schema. */
export function checkSemantics(raw: RawFleet, context: SemanticContext): SemanticResult {
  const result: SemanticResult = { issues: [], warnings: [] };
  checkTor(raw, context, result);
  checkPools(raw.pools, context, result);
  checkGateway(raw, context, result);
  checkBroker(raw, context, result);
  return result;
}

function checkTor(raw: RawFleet, { document, origins }: SemanticContext, result: SemanticResult): void {
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
    const problems = origins.isFromEnvironment(path)
      ? dirAuthorityProblems(line).map(() => `${origins.show(path, line)} is not a DirAuthority line tor accepts`)
      : dirAuthorityProblems(line);
    for (const problem of new Set(problems)) result.issues.push(document.issueAt(path, problem));
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
    const addressPath = ['tor', 'httpsProxy', 'address'];
    if (!parseEndpoint(proxy.address)) {
      result.issues.push(
        document.issueAt(
          addressPath,
          `${origins.show(addressPath, proxy.address)} is not an IP address and port (1-65535): write IPV4:PORT or [IPV6]:PORT`,
        ),
      );
    }
    if (proxy.auth !== undefined && !origins.isWholeReference(['tor', 'httpsProxy', 'auth'])) {
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
  const { document, origins } = context;
  const firstByName = new Map<string, number>();
  pools.forEach((pool, i) => {
    const at = (...rest: PathSegment[]): PathSegment[] => ['pools', i, ...rest];
    const earlier = firstByName.get(pool.name);
    if (earlier !== undefined) {
      result.issues.push(
        document.issueAt(
          at('name'),
          `pool name ${origins.show(at('name'), pool.name)} is already used by pools[${earlier}]`,
        ),
      );
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
    if (canonicalAddress(bind) === undefined) {
      result.issues.push(
        document.issueAt(at('bind'), `${origins.show(at('bind'), bind)} is not an IPv4 or IPv6 address`),
      );
    } else if (!isLoopbackAddress(bind)) {
      result.warnings.push(
        document.issueAt(
          at('bind'),
          `proxies bound to ${origins.show(at('bind'), bind)} are reachable from other machines, and a SOCKS port has no authentication`,
        ),
      );
    }

    checkGeo(pool, at, context, result);
    checkRotation(pool, at, context, result);
    checkCapacity(pool, at, context, result);
    checkPacking(pool, at, context, result);
  });
  checkPortOverlaps(pools, context, result);
}

function checkGeo(
  pool: RawPool,
  at: (...rest: PathSegment[]) => PathSegment[],
  { document, origins }: SemanticContext,
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
          document.issueAt(
            at('exclude', j),
            `${origins.show(at('exclude', j), country)} is not in geo, so excluding it has no effect`,
          ),
        );
      }
    });
  }
}

function checkRotation(
  pool: RawPool,
  at: (...rest: PathSegment[]) => PathSegment[],
  { document, origins }: SemanticContext,
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
  const ms = parseDuration(pool.rotateEvery);
  if (ms === undefined) {
    result.issues.push(
      document.issueAt(
        at('rotateEvery'),
        `${origins.show(at('rotateEvery'), pool.rotateEvery)} is not ${DURATION_EXAMPLES}`,
      ),
    );
    return;
  }
  const seconds = ms / 1000;
  if (seconds < MIN_ROTATE_SECONDS || seconds > MAX_ROTATE_SECONDS) {
    result.issues.push(
      document.issueAt(
        at('rotateEvery'),
        `${origins.show(at('rotateEvery'), pool.rotateEvery)} is outside the allowed range ${MIN_ROTATE_SECONDS}s to 24h`,
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

function checkPortOverlaps(
  pools: readonly RawPool[],
  { document, origins }: SemanticContext,
  result: SemanticResult,
): void {
  pools.forEach((pool, i) => {
    if (pool.count === 0) return;
    for (let j = 0; j < i; j++) {
      const other = pools[j];
      if (!other || other.count === 0 || !addressesOverlap(pool.bind ?? DEFAULT_BIND, other.bind ?? DEFAULT_BIND)) {
        continue;
      }
      const start = Math.max(pool.basePort, other.basePort);
      const end = Math.min(pool.basePort + pool.count, other.basePort + other.count) - 1;
      if (start <= end) {
        result.issues.push(
          document.issueAt(
            ['pools', i, 'basePort'],
            `ports ${pool.basePort}-${pool.basePort + pool.count - 1} overlap ports ${other.basePort}-${other.basePort + other.count - 1} of pool ${origins.show(['pools', j, 'name'], other.name)} (pools[${j}]) at ${start}; move basePort`,
          ),
        );
        return;
      }
    }
  });
}

/** `rotateEvery` in seconds, for a fleet whose checks passed (the schema and `checkRotation` hold it to the grammar). */
export function rotateEverySeconds(text: string): number {
  const ms = parseDuration(text);
  if (ms === undefined) throw new Error(`rotateEvery "${text}" passed the fleet checks but is not a duration`);
  return ms / 1000;
}
