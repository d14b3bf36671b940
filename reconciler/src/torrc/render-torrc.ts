import { isIP } from 'node:net';
import { rotatingExitCountries } from '../fleet/geo-match.js';
import type { ProxySpec } from '../plan/plan-types.js';
import { Guard, renderTemplate } from './torrc-template.js';
import { COUNTRY, FINGERPRINT, maxMemInQueues, networkLines, PATH, POOL_NAME } from './torrc-values.js';

/** What a runtime decides about a proxy's files: paths as tor inside its container (or process) sees them. */
export interface TorrcPaths {
  readonly dataDirectory: string;
  readonly controlSocket: string;
  /** The fleet's `tor.geoipFile` as tor sees it, or null to use the image's own GeoIP files. */
  readonly geoipFile: string | null;
}

export interface TorrcOptions {
  readonly maxMemInQueuesMb: number;
}

export const DEFAULT_TORRC_OPTIONS: TorrcOptions = { maxMemInQueuesMb: 64 };

export { TorrcRenderError } from './torrc-template.js';

const IPV4 = /^[0-9]{1,3}(\.[0-9]{1,3}){3}$/;
const IPV6 = /^[0-9A-Fa-f:.]{2,45}$/;

/** Renders a proxy's torrc from templates/torrc.tmpl's text (see renderTemplate). Pure. */
export function renderTorrc(
  template: string,
  spec: ProxySpec,
  paths: TorrcPaths,
  options = DEFAULT_TORRC_OPTIONS,
): string {
  const guard = new Guard(spec.name);
  return renderTemplate(
    template,
    {
      proxy: () => guard.check(spec.name, /^[a-z][a-z0-9-]{0,40}$/, 'proxy name'),
      pool: () => guard.check(spec.pool, POOL_NAME, 'pool name'),
      socksPort: () => socksAddress(spec, guard),
      dataDirectory: () => guard.check(paths.dataDirectory, PATH, 'data directory'),
      controlSocket: () => guard.check(paths.controlSocket, PATH, 'control socket'),
      maxMemInQueues: () => maxMemInQueues(options.maxMemInQueuesMb),
      exitLines: () => exitLines(spec, guard),
      geoipLines: () => geoipLines(spec, paths, guard),
      networkLines: () => networkLines(spec.tor, guard),
    },
    guard,
  );
}

function socksAddress(spec: ProxySpec, guard: Guard): string {
  if (!Number.isInteger(spec.port) || spec.port < 1024 || spec.port > 65535) guard.refuse(`port ${spec.port}`);
  return spec.bind.includes(':')
    ? `[${guard.parse(spec.bind, IPV6, 'bind address', (a) => isIP(a) === 6)}]:${spec.port}`
    : `${guard.parse(spec.bind, IPV4, 'bind address', (a) => isIP(a) === 4)}:${spec.port}`;
}

function exitLines(spec: ProxySpec, guard: Guard): string[] {
  const check = guard.check.bind(guard);
  if (spec.mode !== 'rotating') {
    const pinned = spec.exits.fingerprints.map((fp) => `$${check(fp, FINGERPRINT, 'exit fingerprint')}`);
    if (pinned.length === 0) guard.refuse('a pinned proxy without exits');
    return [`ExitNodes ${pinned.join(',')}`, 'StrictNodes 1'];
  }
  const codes = (countries: readonly string[]): string =>
    countries.map((c) => `{${check(c, COUNTRY, 'country').toLowerCase()}}`).join(',');
  const lines: string[] = [];
  if (spec.exits.countries.length > 0) lines.push(`ExitNodes ${codes(spec.exits.countries)}`);
  const excluded = rotatingExitCountries(spec.geo, spec.exclude).excludeExitNodes;
  if (excluded.length > 0) lines.push(`ExcludeExitNodes ${codes(excluded)}`);
  lines.push('StrictNodes 1', `MaxCircuitDirtiness ${spec.rotateEverySeconds ?? 600}`);
  return lines;
}

function geoipLines(spec: ProxySpec, paths: TorrcPaths, guard: Guard): string[] {
  if (spec.mode !== 'rotating') return ['GeoIPFile ""', 'GeoIPv6File ""'];
  return paths.geoipFile ? [`GeoIPFile ${guard.check(paths.geoipFile, PATH, 'GeoIP file')}`] : [];
}
