import { isIP } from 'node:net';
import { dirAuthorityProblems } from '../fleet/dir-authority.js';
import { quoteText } from '../fleet/display-text.js';
import { parseEndpoint } from '../fleet/ip-address.js';
import type { ProxySpec } from '../plan/plan-types.js';
import { rotatingExitCountries } from '../fleet/geo-match.js';

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

/** A value that should never have passed validation reached the renderer: a bug, refused rather than written. */
export class TorrcRenderError extends Error {
  constructor(proxy: string, what: string) {
    super(`refusing to render the torrc of ${proxy}: ${what}`);
    this.name = 'TorrcRenderError';
  }
}

// Second gate after fleet validation: every value is re-checked right where it enters the torrc.
const FINGERPRINT = /^[0-9A-F]{40}$/;
const COUNTRY = /^[A-Z]{2}$/;
const PATH = /^\/[A-Za-z0-9._/-]+$/;
const IPV4 = /^[0-9]{1,3}(\.[0-9]{1,3}){3}$/;
const IPV6 = /^[0-9A-Fa-f:.]{2,45}$/;
const PROXY_ADDRESS = /^(?:[0-9]{1,3}(?:\.[0-9]{1,3}){3}|\[[0-9A-Fa-f:.]{2,45}\]):[0-9]{1,5}$/;
const AUTH = /^[\x21\x23-\x39\x3B-\x5B\x5D-\x7E]+:[\x21\x23-\x5B\x5D-\x7E]*$/;
const DIR_AUTHORITY =
  /^[A-Za-z0-9]{1,19}( [A-Za-z0-9=:.[\]-]+)* [0-9.]+:[0-9]{1,5}( [0-9A-Fa-f]{4}){0,9} ?[0-9A-Fa-f]{4,40}$/;
const PLACEHOLDER = /\{\{([a-zA-Z]+)\}\}/g;

/**
 * Renders a proxy's torrc from the template text. Pure. Inline placeholders take one checked token;
 * a line holding only a block placeholder becomes zero or more whole lines. Unknown placeholders fail.
 */
export function renderTorrc(
  template: string,
  spec: ProxySpec,
  paths: TorrcPaths,
  options = DEFAULT_TORRC_OPTIONS,
): string {
  const guard = new Guard(spec.name);
  const values: Record<string, () => string | string[]> = {
    proxy: () => guard.check(spec.name, /^[a-z][a-z0-9-]{0,40}$/, 'proxy name'),
    pool: () => guard.check(spec.pool, /^[a-z][a-z0-9-]{0,30}$/, 'pool name'),
    socksPort: () => socksAddress(spec, guard),
    dataDirectory: () => guard.check(paths.dataDirectory, PATH, 'data directory'),
    controlSocket: () => guard.check(paths.controlSocket, PATH, 'control socket'),
    maxMemInQueues: () => `${Math.max(1, Math.floor(options.maxMemInQueuesMb))} MB`,
    exitLines: () => exitLines(spec, guard),
    geoipLines: () => geoipLines(spec, paths, guard),
    networkLines: () => networkLines(spec, guard),
  };
  const produce = (name: string, kind: string): string | string[] =>
    (values[name] ?? guard.refuse(`unknown template ${kind} {{${name}}}`))();

  const lines: string[] = [];
  for (const line of template.split('\n')) {
    const block = /^\{\{([a-zA-Z]+)\}\}$/.exec(line.trim());
    if (block) {
      const produced = produce(block[1] ?? '', 'block');
      lines.push(...(Array.isArray(produced) ? produced : [produced]));
      continue;
    }
    lines.push(
      line.replace(PLACEHOLDER, (_match, name: string) => {
        const produced = produce(name, 'value');
        return Array.isArray(produced) ? guard.refuse(`{{${name}}} is a block: put it on a line of its own`) : produced;
      }),
    );
  }
  const text = lines.join('\n');
  // Whatever the template holds, the result must not carry a line continuation or an include.
  if (/\\\n/.test(text) || /^\s*%include/m.test(text))
    guard.refuse('the template produced a line continuation or %include');
  return text.endsWith('\n') ? text : `${text}\n`;
}

class Guard {
  constructor(private readonly proxy: string) {}

  check(value: string, pattern: RegExp, what: string): string {
    return pattern.test(value) ? value : this.refuse(`${what} ${quoteText(value)} is not allowed`);
  }

  /** `check`, then `valid(value)`: the pattern bounds the characters, `valid` parses the value fully. */
  parse(value: string, pattern: RegExp, what: string, valid: (value: string) => boolean): string {
    const checked = this.check(value, pattern, what);
    return valid(checked) ? checked : this.refuse(`${what} ${quoteText(value)} is not valid`);
  }

  refuse(what: string): never {
    throw new TorrcRenderError(this.proxy, what);
  }
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

function networkLines(spec: ProxySpec, guard: Guard): string[] {
  const { tor } = spec;
  const lines: string[] = [];
  if (tor.disableNetwork) lines.push('DisableNetwork 1');
  if (tor.dirAuthorities.length > 0) {
    if (tor.testingNetwork) lines.push('TestingTorNetwork 1');
    lines.push('UseDefaultFallbackDirs 0');
    for (const authority of tor.dirAuthorities) {
      const valid = (line: string): boolean => dirAuthorityProblems(line).length === 0;
      lines.push(`DirAuthority ${guard.parse(authority, DIR_AUTHORITY, 'DirAuthority line', valid)}`);
    }
  }
  if (tor.httpsProxy) {
    const address = tor.httpsProxy.address;
    const valid = (text: string): boolean => parseEndpoint(text) !== undefined;
    lines.push(`HTTPSProxy ${guard.parse(address, PROXY_ADDRESS, 'HTTPS proxy address', valid)}`);
    const auth = tor.httpsProxy.auth?.reveal();
    if (auth !== undefined) {
      // Quoted so that a '#' in the password is not a comment; the pattern excludes '"' and '\'.
      if (!AUTH.test(auth)) guard.refuse('the HTTPS proxy credential has characters a torrc cannot hold');
      lines.push(`HTTPSProxyAuthenticator "${auth}"`);
    }
  }
  return lines;
}
