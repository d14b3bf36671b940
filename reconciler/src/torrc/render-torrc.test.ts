import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import type { PoolSpec, TorSettings } from '../fleet/fleet-types.js';
import { Secret } from '../fleet/secret.js';
import { packagePath } from '../package-root.js';
import { buildSpec } from '../plan/compute-plan.js';
import type { ProxyExits, ProxySpec } from '../plan/plan-types.js';
import { TEST_TOR, testPool } from '../testing/fleet-fixtures.js';
import { renderTorrc, TorrcRenderError, type TorrcPaths } from './render-torrc.js';
import { verifyTorrc } from './verify-torrc.js';

const TEMPLATE = readFileSync(packagePath('templates', 'torrc.tmpl'), 'utf8');
const PATHS: TorrcPaths = { dataDirectory: '/var/lib/tor', controlSocket: '/var/lib/tor/control', geoipFile: null };
const FP = (c: string): string => c.repeat(40);

function spec(pool: Partial<PoolSpec>, exits: Partial<ProxyExits> = {}, tor: Partial<TorSettings> = {}): ProxySpec {
  return buildSpec(
    testPool('p', { count: 1, rotateEverySeconds: null, ...pool }),
    0,
    { fingerprints: [FP('A')], addresses: ['192.0.2.1'], countries: ['US'], network: null, ...exits },
    { ...TEST_TOR, ...tor },
    'digest',
  );
}

// Two authorities of a private network, as tor-gencert and --list-fingerprint print them.
const AUTHORITIES = [
  `auth1 orport=5001 no-v2 v3ident=${FP('1')} 127.0.0.2:7001 ${FP('2')}`,
  `auth2 orport=5002 no-v2 v3ident=${FP('3')} 127.0.0.3:7002 ${FP('4')}`,
];

const CASES: readonly { name: string; spec: ProxySpec; paths?: TorrcPaths; has: string[]; hasNot?: string[] }[] = [
  {
    name: 'strict: pinned by fingerprint, no GeoIP loaded',
    spec: spec({}),
    has: [
      'SocksPort 127.0.0.1:20000',
      `ExitNodes $${FP('A')}`,
      'StrictNodes 1',
      'GeoIPFile ""',
      'GeoIPv6File ""',
      'DataDirectory /var/lib/tor',
      'ControlSocket /var/lib/tor/control',
      'MaxMemInQueues 64 MB',
      'DisableNetwork 1',
    ],
    hasNot: ['MaxCircuitDirtiness', 'DirAuthority'],
  },
  {
    name: 'flexible: pinned to the whole /16 group',
    spec: spec(
      { mode: 'flexible', geo: 'NON_US' },
      { fingerprints: [FP('B'), FP('C'), FP('D')], network: '198.51.0.0/16' },
    ),
    has: [`ExitNodes $${FP('B')},$${FP('C')},$${FP('D')}`, 'StrictNodes 1', 'GeoIPFile ""'],
  },
  {
    name: 'rotating over a country list, with the fleet GeoIP file',
    spec: spec(
      { mode: 'rotating', geo: ['DE', 'NL'], rotateEverySeconds: 300 },
      { fingerprints: [], countries: ['DE', 'NL'] },
    ),
    paths: { ...PATHS, geoipFile: '/etc/torfleet/geoip' },
    has: ['ExitNodes {de},{nl}', 'StrictNodes 1', 'MaxCircuitDirtiness 300', 'GeoIPFile /etc/torfleet/geoip'],
    hasNot: ['GeoIPFile ""', 'ExcludeExitNodes'],
  },
  {
    name: 'rotating NON_US excludes US and the pool exclusions',
    spec: spec(
      { mode: 'rotating', geo: 'NON_US', exclude: ['UA', 'CH'], rotateEverySeconds: 600 },
      { fingerprints: [], countries: [] },
    ),
    has: ['ExcludeExitNodes {us},{ua},{ch}', 'MaxCircuitDirtiness 600'],
    hasNot: ['\nExitNodes'],
  },
  {
    name: 'an IPv6 bind',
    spec: spec({ bind: '::1' }),
    has: ['SocksPort [::1]:20000'],
  },
  {
    name: 'a private Tor network',
    spec: spec({}, {}, { dirAuthorities: AUTHORITIES, testingNetwork: true, disableNetwork: false }),
    has: [
      'TestingTorNetwork 1',
      'UseDefaultFallbackDirs 0',
      `DirAuthority ${AUTHORITIES[0] ?? ''}`,
      `DirAuthority ${AUTHORITIES[1] ?? ''}`,
    ],
    hasNot: ['DisableNetwork'],
  },
  {
    name: 'a corporate proxy, its credential quoted so a # stays in it',
    spec: spec({}, {}, { httpsProxy: { address: '192.0.2.10:3128', auth: new Secret('svc-tor:pa#ss') } }),
    has: ['HTTPSProxy 192.0.2.10:3128', 'HTTPSProxyAuthenticator "svc-tor:pa#ss"'],
  },
];

describe('renderTorrc + tor --verify-config (real tor)', () => {
  for (const c of CASES) {
    test(c.name, async () => {
      const torrc = renderTorrc(TEMPLATE, c.spec, c.paths ?? PATHS);
      const lines = torrc.split('\n');
      for (const line of c.has) assert.ok(lines.includes(line), `missing line "${line}" in:\n${torrc}`);
      for (const part of c.hasNot ?? []) assert.ok(!torrc.includes(part), `unexpected "${part}" in:\n${torrc}`);
      assert.ok(!/\{\{/.test(torrc), 'a placeholder was left');
      await verifyTorrc(c.spec.name, torrc);
    });
  }
});

describe('renderTorrc refuses values that could inject torrc lines', () => {
  const REFUSED: readonly { name: string; spec: ProxySpec; template?: string; says: RegExp }[] = [
    {
      name: 'a newline in the bind address',
      spec: spec({ bind: '127.0.0.1\nSocksPort 0.0.0.0:9999' }),
      says: /bind address/,
    },
    {
      name: 'a newline in a fingerprint',
      spec: spec({}, { fingerprints: [`${FP('A')}\nSocksPort 9`] }),
      says: /exit fingerprint/,
    },
    { name: 'a pinned proxy without exits', spec: spec({}, { fingerprints: [] }), says: /without exits/ },
    {
      name: 'a country with braces',
      spec: spec({ mode: 'rotating', geo: ['DE'] }, { fingerprints: [], countries: ['{us}x'] }),
      says: /country/,
    },
    {
      name: 'a comment in a DirAuthority line',
      spec: spec({}, {}, { dirAuthorities: [`${AUTHORITIES[0] ?? ''} # x`] }),
      says: /DirAuthority line/,
    },
    {
      name: 'a quote in the credential',
      spec: spec({}, {}, { httpsProxy: { address: '192.0.2.1:1', auth: new Secret('u:p"\nX 1') } }),
      says: /credential has characters/,
    },
    { name: 'a bind address with a bad octet', spec: spec({ bind: '999.1.1.1' }), says: /bind address "999.1.1.1"/ },
    { name: 'an IPv6 bind with nine groups', spec: spec({ bind: '1:2:3:4:5:6:7:8:9' }), says: /bind address/ },
    {
      name: 'an IPv4 HTTPS proxy in brackets',
      spec: spec({}, {}, { httpsProxy: { address: '[1.2.3.4]:3128', auth: null } }),
      says: /HTTPS proxy address "\[1\.2\.3\.4\]:3128" is not valid/,
    },
    {
      name: 'an HTTPS proxy port above 65535',
      spec: spec({}, {}, { httpsProxy: { address: '192.0.2.1:99999', auth: null } }),
      says: /HTTPS proxy address/,
    },
    {
      name: 'a DirAuthority ipv6 port above 65535',
      spec: spec({}, {}, { dirAuthorities: [(AUTHORITIES[0] ?? '').replace('no-v2', 'ipv6=[::1]:99999')] }),
      says: /DirAuthority line .* is not valid/,
    },
    {
      name: 'a control character in a refused value is escaped',
      spec: spec({ bind: '127.0.0.1\u001b[2J' }),
      says: /bind address "127\.0\.0\.1\\u\{1B\}\[2J" is not allowed/,
    },
    { name: 'a relative data directory', spec: spec({}), says: /data directory/ },
    {
      name: 'an unknown template value',
      spec: spec({}),
      template: 'SocksPort {{socks}}\n',
      says: /unknown template value \{\{socks\}\}/,
    },
    { name: 'a block used inline', spec: spec({}), template: 'X {{exitLines}}\n', says: /is a block/ },
    { name: 'an %include in the template', spec: spec({}), template: '%include /etc/passwd\n', says: /%include/ },
  ];
  for (const r of REFUSED) {
    test(r.name, () => {
      const paths = r.name === 'a relative data directory' ? { ...PATHS, dataDirectory: 'data' } : PATHS;
      assert.throws(
        () => renderTorrc(r.template ?? TEMPLATE, r.spec, paths),
        (error: unknown) => {
          assert.ok(error instanceof TorrcRenderError);
          assert.match(error.message, r.says);
          assert.ok(!error.message.includes('p"'), 'the credential leaked into the message');
          return true;
        },
      );
    });
  }
});

describe('verifyTorrc', () => {
  test('an option tor does not know is a readable error naming the proxy', async () => {
    const torrc = renderTorrc(`${TEMPLATE}BogusOption 1\n`, spec({}), PATHS);
    await assert.rejects(verifyTorrc('p-0', torrc), {
      code: 'TORRC_INVALID',
      disposition: 'stalled',
      message: /tor rejects the torrc of p-0: Failed to parse\/validate config: Unknown option 'BogusOption'/,
    });
  });
  test('a malformed ExitNodes entry is caught by tor itself', async () => {
    await assert.rejects(
      verifyTorrc('p-0', 'SocksPort 127.0.0.1:20000\nExitNodes $NOTHEX\nDisableNetwork 1\n'),
      /tor rejects the torrc of p-0/,
    );
  });
  test('a missing tor binary says how to install it', async () => {
    await assert.rejects(verifyTorrc('p-0', 'SocksPort 1\n', { torBinary: '/nonexistent/tor' }), {
      code: 'TOR_MISSING',
      disposition: 'stalled',
      message: /"\/nonexistent\/tor" is not installed \(apt-get install tor\)/,
    });
  });
  test('a check killed at its deadline is no verdict on the torrc: waiting, checked again later', async () => {
    await assert.rejects(verifyTorrc('p-0', 'SocksPort 127.0.0.1:20000\nDisableNetwork 1\n', { timeoutMs: 1 }), {
      code: 'TORRC_UNCHECKED',
      disposition: 'waiting',
      retryAfterMs: 1,
      message: /did not finish within 0\.001 s/,
    });
  });
});
