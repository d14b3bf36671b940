import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { inspect } from 'node:util';
import { packagePath } from '../package-root.js';
import { sharedGeoIpFile } from '../testing/shared-data.js';
import { FleetValidationError, formatIssue, type FleetIssue } from './fleet-issue.js';
import type { FleetCapacity } from './fleet-types.js';
import type { GeoIpFileCheck } from './geoip-file-check.js';
import { loadFleetFile, parseFleet } from './load-fleet.js';

const HEAD = 'apiVersion: torfleet/v1\nkind: Fleet\n';

/** Lines 4-8 hold one pool: name 4:11, geo 5:10, mode 6:11, count 7:12, basePort 8:15; `extra` from line 9. */
function onePool(
  p: { name?: string; geo?: string; mode?: string; count?: string; basePort?: string; extra?: string[] } = {},
): string {
  return `${HEAD}pools:
  - name: ${p.name ?? 'p'}
    geo: ${p.geo ?? 'US'}
    mode: ${p.mode ?? 'strict'}
    count: ${p.count ?? '2'}
    basePort: ${p.basePort ?? '19050'}
${(p.extra ?? []).map((line) => `    ${line}\n`).join('')}`;
}

/** Two pools: the second's name is at 9:11 and its basePort at 13:15. */
function twoPools(first: string[], second: string[]): string {
  const block = (lines: string[]): string => lines.map((line, i) => `${i === 0 ? '  - ' : '    '}${line}\n`).join('');
  return `${HEAD}pools:\n${block(first)}${block(second)}`;
}
const POOL = (name: string, port: number, extra: string[] = []): string[] => [
  `name: ${name}`,
  'geo: US',
  'mode: strict',
  'count: 2',
  `basePort: ${port}`,
  ...extra,
];

/** Tor settings from line 4 (key at column 3), then `pools: []`. */
function torSettings(...lines: string[]): string {
  return `${HEAD}tor:\n${lines.map((line) => `  ${line}\n`).join('')}pools: []\n`;
}

const VALID_AUTHORITY =
  'auth1 orport=5001 no-v2 v3ident=0123456789ABCDEF0123456789ABCDEF01234567 127.0.0.2:7001 89ABCDEF0123456789ABCDEF0123456789ABCDEF';

const scratch = mkdtempSync(path.join(tmpdir(), 'torfleet-fleet-'));
const scratchFile = (name: string, text: string): string => {
  const file = path.join(scratch, name);
  writeFileSync(file, text);
  return file;
};
const PASSWD_LIKE = scratchFile('passwd-like', 'root:$6$salt$hash:19000:0:99999:7:::\n');
const EMPTY_GEOIP = scratchFile('empty-geoip', '# no ranges\n');

const noCapacity = undefined;
const smallCapacity: FleetCapacity = { exitsFor: () => 3, groupsFor: () => 2 };

interface BadCase {
  readonly name: string;
  readonly text: string;
  readonly env?: Record<string, string>;
  readonly capacity?: FleetCapacity | undefined;
  readonly geoip?: GeoIpFileCheck;
  /** The issue expected among those reported. */
  readonly path: string;
  readonly at: readonly [line: number, column: number];
  readonly says: string;
}

const BAD: readonly BadCase[] = [
  {
    name: 'wrong apiVersion',
    text: `apiVersion: torfleet/v2\nkind: Fleet\npools: []\n`,
    path: 'apiVersion',
    at: [1, 13],
    says: 'write "torfleet/v1"',
  },
  {
    name: 'wrong kind',
    text: `apiVersion: torfleet/v1\nkind: Pool\npools: []\n`,
    path: 'kind',
    at: [2, 7],
    says: 'write "Fleet"',
  },
  {
    name: 'unknown top-level key',
    text: `${HEAD}pools: []\nextra: 1\n`,
    path: 'extra',
    at: [4, 1],
    says: 'unknown key "extra"',
  },
  { name: 'missing pools', text: HEAD, path: '', at: [1, 1], says: 'missing required key "pools"' },
  {
    name: 'pools is a mapping',
    text: `${HEAD}pools: {}\n`,
    path: 'pools',
    at: [3, 8],
    says: 'expected a list, got a mapping',
  },
  {
    name: 'unknown pool key with a typo',
    text: onePool({ extra: ['counts: 3'] }),
    path: 'pools[0].counts',
    at: [9, 5],
    says: 'did you mean "count"?',
  },
  {
    name: 'missing count',
    text: `${HEAD}pools:\n  - name: p\n    geo: US\n    mode: strict\n    basePort: 19050\n`,
    path: 'pools[0]',
    at: [4, 5],
    says: 'missing required key "count"',
  },
  {
    name: 'upper-case pool name',
    text: onePool({ name: 'Bad_Name' }),
    path: 'pools[0].name',
    at: [4, 11],
    says: 'is not a pool name',
  },
  {
    name: 'newline smuggled into a name',
    text: onePool({ name: '"a\\nSocksPort 0.0.0.0:9999"' }),
    path: 'pools[0].name',
    at: [4, 11],
    says: 'is not a pool name',
  },
  {
    name: 'trailing backslash in a name',
    text: onePool({ name: '"abc\\\\"' }),
    path: 'pools[0].name',
    at: [4, 11],
    says: 'is not a pool name',
  },
  {
    name: 'pool name longer than 31 characters',
    text: onePool({ name: 'a'.repeat(32) }),
    path: 'pools[0].name',
    at: [4, 11],
    says: 'up to 30',
  },
  {
    name: 'duplicate pool names',
    text: twoPools(POOL('same', 19050), POOL('same', 19100)),
    path: 'pools[1].name',
    at: [9, 11],
    says: 'already used by pools[0]',
  },
  {
    name: 'geo USA',
    text: onePool({ geo: 'USA' }),
    path: 'pools[0].geo',
    at: [5, 10],
    says: 'is not one of: US, NON_US',
  },
  {
    name: 'geo as one country string',
    text: onePool({ geo: 'DE' }),
    path: 'pools[0].geo',
    at: [5, 10],
    says: 'write a list: [DE]',
  },
  {
    name: 'geo with a torrc-style country',
    text: onePool({ geo: '"{us}garbage"' }),
    path: 'pools[0].geo',
    at: [5, 10],
    says: 'is not one of',
  },
  {
    name: 'geo in lower case',
    text: onePool({ geo: '[de]' }),
    path: 'pools[0].geo[0]',
    at: [5, 11],
    says: 'write it in capitals: "DE"',
  },
  {
    name: 'geo UK instead of GB',
    text: onePool({ geo: '[UK]' }),
    path: 'pools[0].geo[0]',
    at: [5, 11],
    says: 'did you mean "GB"?',
  },
  { name: 'empty geo list', text: onePool({ geo: '[]' }), path: 'pools[0].geo', at: [5, 10], says: 'at least 1' },
  {
    name: 'country listed twice',
    text: onePool({ geo: '[DE, DE]' }),
    path: 'pools[0].geo[1]',
    at: [5, 15],
    says: 'listed twice',
  },
  {
    name: 'unknown excluded country',
    text: onePool({ geo: 'NON_US', extra: ['exclude: [XX]'] }),
    path: 'pools[0].exclude[0]',
    at: [9, 15],
    says: 'ISO 3166-1',
  },
  {
    name: 'exclude removes every country',
    text: onePool({ geo: '[DE]', extra: ['exclude: [DE]'] }),
    path: 'pools[0].exclude',
    at: [9, 14],
    says: 'removes every country',
  },
  {
    name: 'US pool excluding US',
    text: onePool({ extra: ['exclude: [US]'] }),
    path: 'pools[0].exclude',
    at: [9, 14],
    says: 'leaves no country',
  },
  {
    name: 'unknown mode',
    text: onePool({ mode: 'stict' }),
    path: 'pools[0].mode',
    at: [6, 11],
    says: 'did you mean "strict"?',
  },
  {
    name: 'negative count',
    text: onePool({ count: '-1' }),
    path: 'pools[0].count',
    at: [7, 12],
    says: 'below the minimum 0',
  },
  {
    name: 'fractional count',
    text: onePool({ count: '1.5' }),
    path: 'pools[0].count',
    at: [7, 12],
    says: 'expected a whole number',
  },
  {
    name: 'count as a string',
    text: onePool({ count: '"3"' }),
    path: 'pools[0].count',
    at: [7, 12],
    says: 'expected a whole number, got string "3"',
  },
  {
    name: 'count above 10000',
    text: onePool({ count: '10001' }),
    path: 'pools[0].count',
    at: [7, 12],
    says: 'above the maximum 10000',
  },
  {
    name: 'privileged basePort',
    text: onePool({ basePort: '80' }),
    path: 'pools[0].basePort',
    at: [8, 15],
    says: 'below the minimum 1024',
  },
  {
    name: 'basePort beyond 65535',
    text: onePool({ basePort: '70000' }),
    path: 'pools[0].basePort',
    at: [8, 15],
    says: 'above the maximum 65535',
  },
  {
    name: 'ports run past 65535',
    text: onePool({ basePort: '65535', count: '2' }),
    path: 'pools[0].count',
    at: [7, 12],
    says: 'would need port 65536',
  },
  {
    name: 'overlapping port ranges',
    text: twoPools(POOL('a', 19050), POOL('b', 19051)),
    path: 'pools[1].basePort',
    at: [13, 15],
    says: 'overlap ports 19050-19051 of pool "a"',
  },
  {
    name: 'overlap with a wildcard bind',
    text: twoPools(POOL('a', 19050, ['bind: 127.0.0.2']), POOL('b', 19051, ['bind: 0.0.0.0'])),
    path: 'pools[1].basePort',
    at: [14, 15],
    says: 'overlap',
  },
  {
    name: 'bind is a host name',
    text: onePool({ extra: ['bind: localhost'] }),
    path: 'pools[0].bind',
    at: [9, 11],
    says: 'is not an IP address literal',
  },
  {
    name: 'bind smuggles a second option',
    text: onePool({ extra: ['bind: "127.0.0.1 IsolateDestAddr"'] }),
    path: 'pools[0].bind',
    at: [9, 11],
    says: 'is not an IP address literal',
  },
  {
    name: 'bind with a bad octet',
    text: onePool({ extra: ['bind: 999.1.1.1'] }),
    path: 'pools[0].bind',
    at: [9, 11],
    says: 'is not an IPv4 or IPv6 address',
  },
  {
    name: 'rotateEvery on a strict pool',
    text: onePool({ extra: ['rotateEvery: 10m'] }),
    path: 'pools[0].rotateEvery',
    at: [9, 18],
    says: 'rotating pools only',
  },
  {
    name: 'rotateEvery too short',
    text: onePool({ mode: 'rotating', extra: ['rotateEvery: 5s'] }),
    path: 'pools[0].rotateEvery',
    at: [9, 18],
    says: 'outside the allowed range',
  },
  {
    name: 'rotateEvery in words',
    text: onePool({ mode: 'rotating', extra: ['rotateEvery: 10 minutes'] }),
    path: 'pools[0].rotateEvery',
    at: [9, 18],
    says: 'is not a duration',
  },
  {
    name: 'a placement constraint Swarm would not take',
    text: onePool({ extra: ['placement: {constraints: ["region=eu"]}'] }),
    path: 'pools[0].placement.constraints[0]',
    at: [9, 31],
    says: 'a Swarm placement constraint such as node.labels.region==eu',
  },
  {
    name: 'placement with a field it does not have',
    text: onePool({ extra: ['placement: {nodes: [a]}'] }),
    path: 'pools[0].placement.nodes',
    at: [9, 17],
    says: 'nodes',
  },
  {
    name: 'strict count above what the node database knows',
    text: onePool({ count: '4' }),
    capacity: smallCapacity,
    path: 'pools[0].count',
    at: [7, 12],
    says: 'only ever known 3',
  },
  {
    name: 'flexible count above the /16 groups known',
    text: onePool({ mode: 'flexible', count: '3' }),
    capacity: smallCapacity,
    path: 'pools[0].count',
    at: [7, 12],
    says: '2 in US',
  },
  {
    name: 'unknown tor key',
    text: torSettings('imagee: x'),
    path: 'tor.imagee',
    at: [4, 3],
    says: 'did you mean "image"?',
  },
  {
    name: 'image with a newline',
    text: torSettings('image: "tor\\nSocksPort 1"'),
    path: 'tor.image',
    at: [4, 10],
    says: 'is not a container image reference',
  },
  {
    name: 'testingNetwork without dirAuthorities',
    text: torSettings('testingNetwork: true'),
    path: 'tor.testingNetwork',
    at: [4, 19],
    says: 'needs dirAuthorities',
  },
  {
    name: '%include as a DirAuthority',
    text: torSettings('dirAuthorities:', '  - "%include /etc/passwd"'),
    path: 'tor.dirAuthorities[0]',
    at: [5, 7],
    says: 'is not a DirAuthority line',
  },
  {
    name: 'DirAuthority with a comment',
    text: torSettings('dirAuthorities:', `  - "${VALID_AUTHORITY} # x"`),
    path: 'tor.dirAuthorities[0]',
    at: [5, 7],
    says: 'is not a DirAuthority line',
  },
  {
    name: 'DirAuthority with a bad address',
    text: torSettings('dirAuthorities:', `  - "${VALID_AUTHORITY.replace('127.0.0.2:7001', '300.0.0.2:7001')}"`),
    path: 'tor.dirAuthorities[0]',
    at: [5, 7],
    says: 'not a valid address and port',
  },
  {
    name: 'relative geoipFile',
    text: torSettings('geoipFile: geoip'),
    path: 'tor.geoipFile',
    at: [4, 14],
    says: 'is not an absolute host path',
  },
  {
    name: 'geoipFile with ..',
    text: torSettings('geoipFile: /srv/../etc/geoip'),
    path: 'tor.geoipFile',
    at: [4, 14],
    says: 'without "." or ".."',
  },
  {
    name: 'geoipFile with a backslash',
    text: torSettings('geoipFile: "/srv/geo\\\\"'),
    path: 'tor.geoipFile',
    at: [4, 14],
    says: 'is not an absolute host path',
  },
  {
    name: 'httpsProxy by host name',
    text: torSettings('httpsProxy:', '  address: "proxy.corp:3128"'),
    path: 'tor.httpsProxy.address',
    at: [5, 14],
    says: 'no host names',
  },
  {
    name: 'httpsProxy port out of range',
    text: torSettings('httpsProxy:', '  address: "192.0.2.1:99999"'),
    path: 'tor.httpsProxy.address',
    at: [5, 14],
    says: 'not an IP address and port',
  },
  {
    name: 'credential committed in the file',
    text: torSettings('httpsProxy:', '  address: "192.0.2.1:3128"', '  auth: "user:pass"'),
    path: 'tor.httpsProxy.auth',
    at: [6, 11],
    says: 'must not be committed to git',
  },
  {
    name: 'missing environment variable',
    text: torSettings('httpsProxy:', '  address: "192.0.2.1:3128"', '  auth: "${PROXY_AUTH}"'),
    path: 'tor.httpsProxy.auth',
    at: [6, 11],
    says: 'environment variable PROXY_AUTH is not set',
  },
  {
    name: 'malformed variable reference',
    text: torSettings('image: "${lower}"'),
    path: 'tor.image',
    at: [4, 10],
    says: 'is not a valid variable reference',
  },
  {
    name: 'disableNetwork as yes',
    text: torSettings('disableNetwork: yes'),
    path: 'tor.disableNetwork',
    at: [4, 19],
    says: 'expected true or false',
  },
  {
    name: 'duplicate key',
    text: `${HEAD}kind: Fleet\npools: []\n`,
    path: '',
    at: [3, 1],
    says: 'yaml: Map keys must be unique',
  },
  {
    name: 'unresolved tag',
    text: `${HEAD}pools: !!js/function x\n`,
    path: '',
    at: [3, 8],
    says: 'yaml: Unresolved tag',
  },
  {
    name: 'two documents',
    text: `${HEAD}pools: []\n---\npools: []\n`,
    path: '',
    at: [4, 1],
    says: 'yaml: Source contains multiple documents',
  },
  {
    name: 'bad indentation',
    text: `${HEAD}pools:\n  - name: a\n   geo: US\n`,
    path: '',
    at: [5, 1],
    says: 'yaml: Sequence item without - indicator',
  },
  {
    name: 'alias expansion bomb',
    text: `${HEAD}pools: []\nx-a: &a ["x","x","x","x","x","x","x","x","x"]\nx-b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nx-c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nx-d: [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n`,
    path: '',
    at: [5, 10],
    says: 'aliases expand too far',
  },
  {
    name: 'too many aliases',
    text: `${HEAD}pools: []\nx: &v 1\ny: [${Array.from({ length: 70 }, () => '*v').join(', ')}]\n`,
    path: '',
    at: [5, 4 + 64 * 4 + 1],
    says: 'more than 64 aliases',
  },
  // Issue 8, item 3: values from the environment are never shown.
  {
    name: 'a secret where a mapping belongs',
    text: torSettings('httpsProxy: "${PROXY_AUTH}"'),
    env: { PROXY_AUTH: 'user:s3cret' },
    path: 'tor.httpsProxy',
    at: [4, 15],
    says: 'expected a mapping or null, got string [from ${PROXY_AUTH}]',
  },
  {
    name: 'a secret where a boolean belongs',
    text: torSettings('testingNetwork: "${PROXY_AUTH}"'),
    env: { PROXY_AUTH: 'user:s3cret' },
    path: 'tor.testingNetwork',
    at: [4, 19],
    says: 'got string [from ${PROXY_AUTH}]',
  },
  {
    name: 'a variable inside a bad pool name',
    text: onePool({ name: '"pool-${SUFFIX}"' }),
    env: { SUFFIX: 'Secret_Suffix' },
    path: 'pools[0].name',
    at: [4, 11],
    says: '[from ${SUFFIX}] is not a pool name',
  },
  {
    name: 'a mode from the environment gets no hint about its value',
    text: onePool({ mode: '"${MODE}"' }),
    env: { MODE: 'STRICT' },
    path: 'pools[0].mode',
    at: [6, 11],
    says: '[from ${MODE}] is not one of: strict, flexible, rotating',
  },
  {
    name: 'an unclosed reference is a plain error',
    text: torSettings('image: "${X"'),
    env: { X: 'torfleet/tor:1' },
    path: 'tor.image',
    at: [4, 10],
    says: 'a "${" is not closed by "}"',
  },
  // Issue 8, item 5: inputs that tor or the host should never see.
  {
    name: 'geoipFile is a device',
    text: torSettings('geoipFile: /dev/zero'),
    path: 'tor.geoipFile',
    at: [4, 14],
    says: 'the GeoIP file is a device, not a regular file',
  },
  {
    name: 'geoipFile is a directory',
    text: torSettings(`geoipFile: ${scratch}`),
    path: 'tor.geoipFile',
    at: [4, 14],
    says: 'is a directory',
  },
  {
    name: 'geoipFile is not a GeoIP file',
    text: torSettings(`geoipFile: ${PASSWD_LIKE}`),
    path: 'tor.geoipFile',
    at: [4, 14],
    says: 'this is not a Tor GeoIP file',
  },
  {
    name: 'geoipFile without ranges',
    text: torSettings(`geoipFile: ${EMPTY_GEOIP}`),
    path: 'tor.geoipFile',
    at: [4, 14],
    says: 'holds no "startnum,endnum,CC" ranges',
  },
  {
    name: 'geoipFile missing where the reconciler runs',
    text: torSettings(`geoipFile: ${scratch}/missing`),
    path: 'tor.geoipFile',
    at: [4, 14],
    says: 'cannot read the GeoIP file (ENOENT)',
  },
  {
    name: 'geoipFile a device even for validate',
    text: torSettings('geoipFile: /dev/zero'),
    geoip: 'if-readable',
    path: 'tor.geoipFile',
    at: [4, 14],
    says: 'is a device',
  },
  {
    name: 'DirAuthority ipv6 port out of range',
    text: torSettings('dirAuthorities:', `  - "${VALID_AUTHORITY.replace('no-v2', 'ipv6=[::1]:99999')}"`),
    path: 'tor.dirAuthorities[0]',
    at: [5, 7],
    says: 'ipv6=[::1]:99999 is not an [IPV6]:PORT address',
  },
  {
    name: 'DirAuthority ipv6 that is not an address',
    text: torSettings('dirAuthorities:', `  - "${VALID_AUTHORITY.replace('no-v2', 'ipv6=[1:2:3:4:5:6:7:8:9]:80')}"`),
    path: 'tor.dirAuthorities[0]',
    at: [5, 7],
    says: 'is not an [IPV6]:PORT address',
  },
  {
    name: 'DirAuthority orport 0',
    text: torSettings('dirAuthorities:', `  - "${VALID_AUTHORITY.replace('orport=5001', 'orport=0')}"`),
    path: 'tor.dirAuthorities[0]',
    at: [5, 7],
    says: 'orport=0 is not a port',
  },
  {
    name: 'httpsProxy IPv4 in brackets',
    text: torSettings('httpsProxy:', '  address: "[1.2.3.4]:3128"'),
    path: 'tor.httpsProxy.address',
    at: [5, 14],
    says: 'is not an IP address and port',
  },
  {
    name: 'httpsProxy IPv6 that is not an address',
    text: torSettings('httpsProxy:', '  address: "[::1::2]:3128"'),
    path: 'tor.httpsProxy.address',
    at: [5, 14],
    says: 'is not an IP address and port',
  },
  {
    name: 'httpsProxy port 0',
    text: torSettings('httpsProxy:', '  address: "192.0.2.1:0"'),
    path: 'tor.httpsProxy.address',
    at: [5, 14],
    says: 'is not an IP address and port',
  },
  {
    name: 'key with a newline is escaped in path and message',
    text: onePool({ extra: ['"bind\\nExitNodes *": 1'] }),
    path: 'pools[0]["bind\\nExitNodes *"]',
    at: [9, 5],
    says: 'unknown key "bind\\nExitNodes *"',
  },
  {
    name: 'value with ESC and a bidi override is escaped',
    text: onePool({ mode: '"\\e[31mstrict\\u202E"' }),
    path: 'pools[0].mode',
    at: [6, 11],
    says: '"\\u{1B}[31mstrict\\u{202E}" is not one of',
  },
  // Issue 8, item 9: YAML that must fail clearly.
  {
    name: '790 levels of nesting',
    text: `${HEAD}pools: []\nx: ${'['.repeat(790)}${']'.repeat(790)}\n`,
    path: '',
    at: [4, 3 + 20],
    says: 'collections nested deeper than 20 levels',
  },
  {
    name: 'a list as a key',
    text: `${HEAD}pools: []\n? [a, b]\n: 1\n`,
    path: '',
    at: [4, 3],
    says: 'a key must be a plain value',
  },
];

function issuesOf(
  text: string,
  env: Record<string, string> = {},
  capacity?: FleetCapacity,
  geoipFile?: GeoIpFileCheck,
): FleetIssue[] {
  try {
    parseFleet('fleet.yaml', text, { env, capacity, geoipFile });
  } catch (error) {
    assert.ok(error instanceof FleetValidationError, `expected a FleetValidationError, got ${String(error)}`);
    return [...error.issues];
  }
  assert.fail('the fleet was accepted');
}

describe('bad fleets are rejected with a located, readable error', () => {
  for (const bad of BAD) {
    test(bad.name, () => {
      const issues = issuesOf(bad.text, bad.env, bad.capacity ?? noCapacity, bad.geoip);
      const match = issues.find((issue) => issue.path === bad.path && issue.message.includes(bad.says));
      assert.ok(match, `no issue at ${bad.path} saying "${bad.says}"; got:\n${issues.map(formatIssue).join('\n')}`);
      assert.deepEqual([match.line, match.column], bad.at, formatIssue(match));
      assert.equal(match.file, 'fleet.yaml');
    });
  }
  test('the table holds at least 30 bad fleets', () => {
    assert.ok(BAD.length >= 30);
  });
});

describe('several problems are reported together', () => {
  test('every schema problem of a file comes in one error', () => {
    const issues = issuesOf(onePool({ name: 'Bad', geo: 'USA', mode: 'x', count: '-1', basePort: '1' }));
    assert.deepEqual(
      issues.map((i) => i.path),
      ['pools[0].name', 'pools[0].geo', 'pools[0].mode', 'pools[0].count', 'pools[0].basePort'],
    );
  });
  test('every semantic problem of a file comes in one error', () => {
    const text = twoPools(POOL('a', 19050, ['rotateEvery: 1m']), POOL('a', 19051));
    assert.deepEqual(
      issuesOf(text).map((i) => i.path),
      ['pools[0].rotateEvery', 'pools[1].name', 'pools[1].basePort'],
    );
  });
});

describe('secrets substituted from the environment never appear in errors', () => {
  test('a malformed secret is reported by location only', () => {
    const secret = 'us"er:hunter2\nSocksPort 0.0.0.0:1';
    const text = torSettings('httpsProxy:', '  address: "192.0.2.1:3128"', '  auth: "${PROXY_AUTH}"');
    const issues = issuesOf(text, { PROXY_AUTH: secret });
    const auth = issues.find((i) => i.path === 'tor.httpsProxy.auth');
    assert.ok(auth);
    assert.deepEqual([auth.line, auth.column], [6, 11]);
    assert.match(auth.message, /^\[from \$\{PROXY_AUTH\}\] is not USER:PASSWORD/);
    const everything = JSON.stringify(issues) + issues.map(formatIssue).join('');
    assert.ok(!everything.includes('hunter2'));
  });
  test('a valid secret is held in a Secret that prints as [redacted]', () => {
    const text = torSettings('httpsProxy:', '  address: "192.0.2.1:3128"', '  auth: "${PROXY_AUTH}"');
    const { fleet } = parseFleet('fleet.yaml', text, { env: { PROXY_AUTH: 'alice:s3cr#t' } });
    const auth = fleet.tor.httpsProxy?.auth;
    assert.equal(auth?.reveal(), 'alice:s3cr#t');
    for (const shown of [JSON.stringify(fleet), inspect(fleet, { depth: 10 }), String(auth), String(auth)]) {
      assert.ok(!shown.includes('s3cr#t'), shown);
    }
  });
});

describe('good fleets load with their defaults applied', () => {
  test('the example fleet in the repository', async () => {
    const { fleet, warnings } = await loadFleetFile(packagePath('fleet', 'fleet.yaml'), { env: {} });
    assert.deepEqual(warnings, []);
    assert.deepEqual(
      fleet.pools.map((p) => [p.name, p.geo, p.exclude, p.mode, p.count, p.basePort, p.bind, p.rotateEverySeconds]),
      [
        ['us-strict', 'US', [], 'strict', 3, 19050, '127.0.0.1', null],
        ['world-flexible', 'NON_US', ['UA', 'CH'], 'flexible', 5, 19150, '127.0.0.1', null],
        ['eu-rotating', ['DE', 'NL'], [], 'rotating', 2, 19250, '127.0.0.1', 600],
      ],
    );
    assert.equal(fleet.tor.image, 'torfleet/tor:0.4.9');
  });

  const GOOD: readonly {
    name: string;
    text: string;
    env?: Record<string, string>;
    check: (f: ReturnType<typeof parseFleet>) => void;
  }[] = [
    {
      name: 'an empty fleet',
      text: `${HEAD}pools: []\n`,
      check: ({ fleet }) => {
        assert.equal(fleet.pools.length, 0);
      },
    },
    {
      name: 'defaults of tor settings',
      text: `${HEAD}pools: []\n`,
      check: ({ fleet }) => {
        assert.deepEqual(JSON.parse(JSON.stringify(fleet.tor)), {
          image: 'torfleet/tor:0.4.9',
          dirAuthorities: [],
          testingNetwork: false,
          geoipFile: null,
          httpsProxy: null,
          disableNetwork: false,
        });
      },
    },
    {
      name: 'a private network with every tor setting',
      text: torSettings(
        'image: registry.local:5000/ops/tor:0.4.9@sha256:' + 'a'.repeat(64),
        'dirAuthorities:',
        `  - "${VALID_AUTHORITY}"`,
        '  - "auth2 orport=5002 127.0.0.3:7002 89AB CDEF 0123 4567 89AB CDEF 0123 4567 89AB CDEF"',
        'testingNetwork: true',
        `geoipFile: ${sharedGeoIpFile}`,
        'httpsProxy:',
        '  address: "[2001:db8::1]:3128"',
        '  auth: "${PROXY_AUTH}"',
        'disableNetwork: true',
      ),
      env: { PROXY_AUTH: 'ops:pw' },
      check: ({ fleet }) => {
        assert.equal(fleet.tor.dirAuthorities.length, 2);
        assert.equal(fleet.tor.testingNetwork, true);
        assert.equal(fleet.tor.httpsProxy?.address, '[2001:db8::1]:3128');
      },
    },
    {
      name: 'a rotating pool takes the default period',
      text: onePool({ mode: 'rotating' }),
      check: ({ fleet }) => {
        assert.equal(fleet.pools[0]?.rotateEverySeconds, 600);
      },
    },
    {
      name: 'rotateEvery in days, the grammar the settings use (1d = 24h, the longest allowed)',
      text: onePool({ mode: 'rotating', extra: ['rotateEvery: 1d'] }),
      check: ({ fleet }) => {
        assert.equal(fleet.pools[0]?.rotateEverySeconds, 86_400);
      },
    },
    {
      name: 'same ports on different loopback addresses',
      text: twoPools(POOL('a', 19050, ['bind: 127.0.0.2']), POOL('b', 19050, ['bind: 127.0.0.3'])),
      check: ({ fleet }) => {
        assert.equal(fleet.pools.length, 2);
      },
    },
    {
      name: 'pools scaled to zero take no ports',
      text: twoPools(
        POOL('a', 19050).map((l) => l.replace('count: 2', 'count: 0')),
        POOL('b', 19050),
      ),
      check: ({ fleet }) => {
        assert.equal(fleet.pools[0]?.count, 0);
      },
    },
    {
      name: 'a public bind is a warning, not an error',
      text: onePool({ extra: ['bind: 0.0.0.0'] }),
      check: ({ warnings }) => {
        assert.match(warnings[0]?.message ?? '', /reachable from other machines/);
      },
    },
    {
      name: 'an IPv6 loopback bind',
      text: onePool({ extra: ['bind: "::1"'] }),
      check: ({ fleet, warnings }) => {
        assert.equal(fleet.pools[0]?.bind, '::1');
        assert.equal(warnings.length, 0);
      },
    },
    {
      name: 'a few aliases for shared values',
      text: `${HEAD}pools:\n  - name: a\n    geo: &eu [DE, NL]\n    mode: strict\n    count: 1\n    basePort: 19050\n  - name: b\n    geo: *eu\n    mode: flexible\n    count: 1\n    basePort: 19060\n`,
      check: ({ fleet }) => {
        assert.deepEqual(fleet.pools[1]?.geo, ['DE', 'NL']);
      },
    },
    {
      name: 'a variable in the image',
      text: torSettings('image: "torfleet/tor:${TOR_VERSION}"'),
      env: { TOR_VERSION: '0.4.8' },
      check: ({ fleet }) => {
        assert.equal(fleet.tor.image, 'torfleet/tor:0.4.8');
      },
    },
    {
      name: 'an exclude outside the geo list warns',
      text: onePool({ geo: '[DE, NL]', extra: ['exclude: [FR]'] }),
      check: ({ warnings }) => {
        assert.equal(warnings[0]?.path, 'pools[0].exclude[0]');
      },
    },
  ];
  for (const good of GOOD) {
    test(good.name, () => {
      good.check(parseFleet('fleet.yaml', good.text, { env: good.env ?? {} }));
    });
  }
});

describe('file limits', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'torfleet-fleet-'));
  test('a file over 1 MiB is rejected before it is parsed', async () => {
    const file = path.join(dir, 'big.yaml');
    writeFileSync(file, `${HEAD}pools: []\n# ${'x'.repeat(1024 * 1024)}\n`);
    await assert.rejects(loadFleetFile(file, { env: {} }), (error: unknown) => {
      assert.ok(error instanceof FleetValidationError);
      assert.match(error.issues[0]?.message ?? '', /larger than 1048576 bytes/);
      return true;
    });
  });
  test('a missing file is a readable error', async () => {
    await assert.rejects(
      loadFleetFile(path.join(dir, 'nope.yaml'), { env: {} }),
      /cannot read fleet file .*nope\.yaml/,
    );
  });
});

describe('values from the environment are shown as [from ${NAME}], never their text', () => {
  const SECRET = 'user:s3cret-Zq9';
  const everything = (issues: readonly FleetIssue[]): string =>
    JSON.stringify(issues) + issues.map(formatIssue).join('');
  const CASES: readonly { name: string; text: string }[] = [
    { name: 'httpsProxy as a string', text: torSettings('httpsProxy: "${PROXY_AUTH}"') },
    { name: 'testingNetwork as a string', text: torSettings('testingNetwork: "${PROXY_AUTH}"') },
    { name: 'image', text: torSettings('image: "${PROXY_AUTH} x"') },
    { name: 'proxy address', text: torSettings('httpsProxy:', '  address: "${PROXY_AUTH}"') },
    { name: 'geoipFile', text: torSettings('geoipFile: "/x/${PROXY_AUTH}"') },
    { name: 'a country', text: onePool({ geo: '["${PROXY_AUTH}"]' }) },
    { name: 'a country listed twice', text: onePool({ geo: '["${PROXY_AUTH}", "${PROXY_AUTH}"]' }) },
    { name: 'a bind address', text: onePool({ extra: ['bind: "${PROXY_AUTH}"'] }) },
    { name: 'a rotation period', text: onePool({ mode: 'rotating', extra: ['rotateEvery: "${PROXY_AUTH}"'] }) },
    { name: 'a DirAuthority line', text: torSettings('dirAuthorities:', '  - "${PROXY_AUTH}"') },
  ];
  for (const { name, text } of CASES) {
    test(name, () => {
      const issues = issuesOf(text, { PROXY_AUTH: SECRET });
      assert.ok(!everything(issues).includes('s3cret'), everything(issues));
      assert.ok(everything(issues).includes('[from ${PROXY_AUTH}]'), everything(issues));
    });
  }
  test('a pool name from the environment in a duplicate-name and an overlap message', () => {
    const text = twoPools(POOL('"${NAME}"', 19050), POOL('"${NAME}"', 19051));
    const issues = issuesOf(text, { NAME: 'hidden-name' });
    assert.ok(!everything(issues).includes('hidden-name'), everything(issues));
    assert.ok(issues.some((i) => i.message.includes('pool name [from ${NAME}] is already used')));
  });
  test('a warning about a public bind from the environment', () => {
    const { warnings } = parseFleet('fleet.yaml', onePool({ extra: ['bind: "${BIND}"'] }), {
      env: { BIND: '192.0.2.77' },
    });
    assert.match(warnings[0]?.message ?? '', /^proxies bound to \[from \$\{BIND\}\] are reachable/);
    assert.ok(!everything(warnings).includes('192.0.2.77'));
  });
  test('a secret with quotes, a newline and a backslash leaks in no spelling', () => {
    const secret = 'pa"ss\\word\nwith-newline';
    const issues = issuesOf(torSettings('httpsProxy: "${PROXY_AUTH}"', 'image: "x ${PROXY_AUTH}"'), {
      PROXY_AUTH: secret,
    });
    for (const piece of ['pa"ss', 'pa\\"ss', 'word\\nwith', 'word\nwith', 'with-newline']) {
      assert.ok(!everything(issues).includes(piece), `${piece} in ${everything(issues)}`);
    }
  });
});

describe('user text in messages is escaped and bounded', () => {
  test('a 500 KB key makes one short line', () => {
    const issues = issuesOf(`${HEAD}pools: []\n? ${'k'.repeat(500_000)}\n: 1\n`);
    const line = formatIssue(issues[0] ?? assert.fail('no issue'));
    assert.ok(line.length < 1000, `${line.length} characters`);
    assert.match(line, /unknown key "k{80}…" \(500000 characters\)/);
  });
  test('no message holds a control or bidi character', () => {
    const text = onePool({ name: '"a\\u001B]0;x\\u0007\\u2066b"', extra: ['"\\u202Ekey": 1'] });
    const lines = issuesOf(text).map(formatIssue);
    assert.ok(lines.length >= 2);
    for (const line of lines) assert.doesNotMatch(line, /\p{Cc}|[\u202A-\u202E\u2066-\u2069]/u);
  });
});

describe('yaml errors are few and quiet', () => {
  test('one unclosed [ gives the first ten errors and a count of the rest', () => {
    const text = `${HEAD}pools: [\n${Array.from({ length: 300 }, (_, i) => `  - name: p${i}\n    count: 1\n`).join('')}`;
    const issues = issuesOf(text);
    assert.equal(issues.length, 11, issues.map(formatIssue).join('\n'));
    assert.match(issues[10]?.message ?? '', /^and \d+ more yaml error\(s\)/);
  });
  test('a collection as a key is an error, and the yaml library prints no warning', async () => {
    const seen: Error[] = [];
    const listener = (warning: Error): void => {
      seen.push(warning);
    };
    process.on('warning', listener);
    try {
      const issues = issuesOf(`${HEAD}pools: []\nx: {[a]: 1, {b: c}: 2}\n`);
      assert.ok(issues.some((i) => i.message.includes('a key must be a plain value')));
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off('warning', listener);
    }
    assert.deepEqual(
      seen.map((w) => w.message),
      [],
    );
  });
});

describe('binds that take the same ports in different spellings clash', () => {
  const CLASHES: readonly [string, string][] = [
    ['127.0.0.1', '::ffff:127.0.0.1'],
    ['::1', '0:0:0:0:0:0:0:1'],
    ['::1', '0:0::0'],
    ['::ffff:7f00:2', '127.0.0.2'],
    ['0.0.0.0', '::1'],
    ['::', '127.0.0.5'],
    ['0000::', '192.0.2.1'],
    ['::FFFF:127.0.0.1', '127.0.0.1'],
  ];
  for (const [a, b] of CLASHES) {
    test(`${a} and ${b}`, () => {
      const text = twoPools(POOL('a', 19050, [`bind: "${a}"`]), POOL('b', 19051, [`bind: "${b}"`]));
      const issues = issuesOf(text);
      assert.ok(
        issues.some((i) => i.path === 'pools[1].basePort' && i.message.includes('overlap')),
        issues.map(formatIssue).join('\n'),
      );
    });
  }
  const APART: readonly [string, string][] = [
    ['127.0.0.1', '::ffff:127.0.0.2'],
    ['::1', '::2'],
    ['127.0.0.1', '::1'],
  ];
  for (const [a, b] of APART) {
    test(`${a} and ${b} do not clash`, () => {
      const text = twoPools(POOL('a', 19050, [`bind: "${a}"`]), POOL('b', 19051, [`bind: "${b}"`]));
      assert.equal(parseFleet('fleet.yaml', text, { env: {} }).fleet.pools.length, 2);
    });
  }
});

describe('geoipFile under validate', () => {
  test('a file this machine cannot read is a warning, not an error', () => {
    const text = torSettings(`geoipFile: ${scratch}/elsewhere`);
    const { warnings } = parseFleet('fleet.yaml', text, { env: {}, geoipFile: 'if-readable' });
    assert.match(warnings[0]?.message ?? '', /cannot read the GeoIP file here \(ENOENT\), so it was not checked/);
  });
  test('the shared Tor GeoIP file passes', () => {
    const { warnings } = parseFleet('fleet.yaml', torSettings(`geoipFile: ${sharedGeoIpFile}`), { env: {} });
    assert.deepEqual(warnings, []);
  });

  test('placement constraints load with their spaces removed; a pool without them has none', () => {
    const { fleet } = parseFleet(
      'fleet.yaml',
      twoPools(
        POOL('a', 19050, ['placement: {constraints: ["node.labels.region == eu", "node.role!=manager"]}']),
        POOL('b', 19060),
      ),
      { env: {} },
    );
    assert.deepEqual(fleet.pools[0]?.placement, { constraints: ['node.labels.region==eu', 'node.role!=manager'] });
    assert.deepEqual(fleet.pools[1]?.placement, { constraints: [] });
  });
});
