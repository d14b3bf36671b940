import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { TorSettings } from '../fleet/fleet-types.js';
import { Secret } from '../fleet/secret.js';
import { packagePath } from '../package-root.js';
import { buildSharedTorSpec } from '../plan/shared-tor-spec.js';
import type { SharedTorSpec } from '../plan/shared-tor-types.js';
import { TEST_TOR, testFleet, testPool } from '../testing/fleet-fixtures.js';
import { tempDir } from '../testing/temp-dir.js';
import { waitFor } from '../wait-for.js';
import { torHealth } from '../tor-control/control-client.js';
import { renderSharedTorrc } from './render-shared-torrc.js';
import { TorrcRenderError } from './torrc-template.js';
import { verifyFleetTorrcs } from './verify-fleet-torrcs.js';
import { verifyTorrc } from './verify-torrc.js';

const TEMPLATE = readFileSync(packagePath('templates', 'shared-torrc.tmpl'), 'utf8');
const PROXY_TEMPLATE = readFileSync(packagePath('templates', 'torrc.tmpl'), 'utf8');
const FP = (c: string): string => c.repeat(40);
const AUTHORITIES = [
  `auth1 orport=5001 no-v2 v3ident=${FP('1')} 127.0.0.2:7001 ${FP('2')}`,
  `auth2 orport=5002 no-v2 v3ident=${FP('3')} 127.0.0.3:7002 ${FP('4')}`,
];

function spec(tor: Partial<TorSettings> = {}, pool = 'us', index = 0): SharedTorSpec {
  const packed = testPool(pool, { count: 5, packing: { proxiesPerTor: 2 } });
  return buildSharedTorSpec(packed, index, { ...TEST_TOR, ...tor }, 'shape', ['us-0', 'us-1']);
}

/** What every shared torrc holds, whatever the network: the controller's contract (spec/packing.md). */
const BASE = [
  'SocksPort 0',
  '__LeaveStreamsUnattached 1',
  '__DisablePredictedCircuits 1',
  'MaxCircuitDirtiness 86400',
  'DataDirectory /var/lib/tor',
  'ControlSocket /var/lib/tor/control',
  'CookieAuthentication 1',
  'MaxMemInQueues 64 MB',
  'GeoIPFile ""',
  'GeoIPv6File ""',
];
/** Exit selection is the controller's; a proxy's own port is the controller's to add. */
const NEVER = ['ExitNodes', 'ExcludeExitNodes', 'StrictNodes', 'SessionGroup', 'SocksPort 127', '{{'];

describe('renderSharedTorrc + tor --verify-config (real tor)', () => {
  const CASES: readonly { name: string; spec: SharedTorSpec; has: string[]; hasNot?: string[] }[] = [
    { name: 'a dry run (DisableNetwork 1)', spec: spec(), has: ['DisableNetwork 1'], hasNot: ['DirAuthority'] },
    {
      name: 'a private Tor network: TestingTorNetwork and its DirAuthority lines',
      spec: spec({ dirAuthorities: AUTHORITIES, testingNetwork: true, disableNetwork: false }),
      has: [
        'TestingTorNetwork 1',
        'UseDefaultFallbackDirs 0',
        `DirAuthority ${AUTHORITIES[0] ?? ''}`,
        `DirAuthority ${AUTHORITIES[1] ?? ''}`,
      ],
      hasNot: ['DisableNetwork'],
    },
    {
      name: 'a custom network without TestingTorNetwork',
      spec: spec({ dirAuthorities: AUTHORITIES, disableNetwork: false }),
      has: [`DirAuthority ${AUTHORITIES[0] ?? ''}`],
      hasNot: ['TestingTorNetwork'],
    },
    {
      name: 'a corporate proxy, its credential quoted',
      spec: spec({ httpsProxy: { address: '192.0.2.10:3128', auth: new Secret('svc-tor:pa#ss') } }),
      has: ['HTTPSProxy 192.0.2.10:3128', 'HTTPSProxyAuthenticator "svc-tor:pa#ss"'],
    },
    {
      name: "the fleet's GeoIP file does not reach it (it selects no relay by country)",
      spec: spec({ geoipFile: '/etc/torfleet/geoip' }),
      has: [],
      hasNot: ['/etc/torfleet/geoip'],
    },
  ];
  for (const c of CASES) {
    test(c.name, async () => {
      const torrc = renderSharedTorrc(TEMPLATE, c.spec, { dataDirectory: '/var/lib/tor' });
      const lines = torrc.split('\n');
      assert.ok(lines[0]?.startsWith('# torrc of shared tor us-tor0 (pool us)'), lines[0]);
      for (const line of [...BASE, ...c.has]) assert.ok(lines.includes(line), `missing line "${line}" in:\n${torrc}`);
      const settings = lines.filter((line) => !line.startsWith('#'));
      for (const part of [...NEVER, ...(c.hasNot ?? [])]) {
        assert.ok(!settings.some((line) => line.includes(part)), `"${part}" in:\n${torrc}`);
      }
      await verifyTorrc(c.spec.name, torrc);
    });
  }
  test('the proxies it serves do not reach its torrc', () => {
    const one = spec();
    const render = (s: SharedTorSpec): string => renderSharedTorrc(TEMPLATE, s, { dataDirectory: '/var/lib/tor' });
    assert.equal(render({ ...one, proxies: ['us-0', 'us-1', 'us-2'] }), render({ ...one, proxies: [] }));
  });
  test('tor rejects a bad shared template: the error names the shared tor and its template', async () => {
    const torrc = renderSharedTorrc(`${TEMPLATE}BogusOption 1\n`, spec(), { dataDirectory: '/var/lib/tor' });
    await assert.rejects(verifyTorrc('us-tor0', torrc, { templateFile: 'templates/shared-torrc.tmpl' }), {
      code: 'TORRC_INVALID',
      message: /^tor rejects the torrc of us-tor0: .*Unknown option 'BogusOption'.*check templates\/shared-torrc\.tmpl/,
    });
  });
});

describe('renderSharedTorrc refuses values that could inject torrc lines', () => {
  const REFUSED: readonly {
    name: string;
    spec: SharedTorSpec;
    dataDirectory?: string;
    template?: string;
    says: RegExp;
  }[] = [
    { name: 'a name that is no shared tor name', spec: { ...spec(), name: 'us-0' }, says: /shared tor name "us-0"/ },
    {
      name: 'a newline in the name',
      spec: { ...spec(), name: 'us-tor0\nSocksPort 0.0.0.0:9' },
      says: /shared tor name/,
    },
    { name: 'a relative data directory', spec: spec(), dataDirectory: 'data', says: /data directory "data"/ },
    {
      name: 'a space in the data directory',
      spec: spec(),
      dataDirectory: '/var/lib/tor ExitNodes',
      says: /data directory/,
    },
    {
      name: 'a comment in a DirAuthority line',
      spec: spec({ dirAuthorities: [`${AUTHORITIES[0] ?? ''} # x`] }),
      says: /DirAuthority line/,
    },
    {
      name: 'a quote in the credential',
      spec: spec({ httpsProxy: { address: '192.0.2.1:1', auth: new Secret('u:p"\nX 1') } }),
      says: /credential has characters/,
    },
    {
      name: "a proxy template's placeholder",
      spec: spec(),
      template: 'SocksPort {{socksPort}}\n',
      says: /unknown template value \{\{socksPort\}\}/,
    },
    { name: 'an %include in the template', spec: spec(), template: '%include /etc/passwd\n', says: /%include/ },
  ];
  for (const r of REFUSED) {
    test(r.name, () => {
      assert.throws(
        () => renderSharedTorrc(r.template ?? TEMPLATE, r.spec, { dataDirectory: r.dataDirectory ?? '/var/lib/tor' }),
        (error: unknown) => {
          assert.ok(error instanceof TorrcRenderError);
          assert.match(error.message, /^refusing to render the torrc of /);
          assert.match(error.message, r.says);
          assert.ok(!error.message.includes('p"'), 'the credential leaked into the message');
          return true;
        },
      );
    });
  }
});

describe('verifyFleetTorrcs: a packed pool is checked by its first shared tor', () => {
  test('tor accepts a fleet of a packed and an unpacked pool', async () => {
    const fleet = testFleet([
      testPool('packed', { count: 4, packing: { proxiesPerTor: 2 } }),
      testPool('plain', { basePort: 20100 }),
    ]);
    assert.deepEqual(await verifyFleetTorrcs(fleet, PROXY_TEMPLATE), []);
  });
  test('what tor rejects in the shared template is reported for the packed pool only, naming its tor', async () => {
    const fleet = testFleet([
      testPool('plain'),
      testPool('packed', { basePort: 20100, packing: { proxiesPerTor: 2 } }),
    ]);
    const problems = await verifyFleetTorrcs(fleet, PROXY_TEMPLATE, { sharedTemplate: `${TEMPLATE}BogusOption 1\n` });
    assert.deepEqual(
      problems.map((p) => p.poolIndex),
      [1],
    );
    assert.match(
      problems[0]?.message ?? '',
      /^tor rejects the torrc of packed-tor0: .*check templates\/shared-torrc\.tmpl/,
    );
  });
});

/** A free loopback TCP port, found by binding port 0. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        resolve(typeof address === 'object' && address ? address.port : 0);
      });
    });
  });
}

/** Sends control commands one per line (the last QUIT) and returns every reply line until tor closes. */
function control(socketPath: string, commands: readonly string[]): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const socket = connect(socketPath);
    let text = '';
    const deadline = setTimeout(() => socket.destroy(new Error('no answer within 5 s')), 5000);
    socket.on('data', (chunk: Buffer) => (text += chunk.toString()));
    socket.on('error', (error) => {
      clearTimeout(deadline);
      reject(error);
    });
    socket.on('close', () => {
      clearTimeout(deadline);
      resolve(text.split('\r\n').filter((line) => line !== ''));
    });
    socket.write(commands.map((command) => `${command}\r\n`).join(''));
  });
}

/** The controller's contract, on a real tor started from the rendered file (DisableNetwork 1: it dials nothing). */
describe('a real tor from a shared torrc: the controller finds its socket and cookie, and adds SocksPorts', () => {
  const dir = tempDir('shared-tor');
  const data = path.join(dir, 'data');
  let tor: ChildProcess | undefined;
  before(async () => {
    mkdirSync(data, { mode: 0o700 });
    const torrc = renderSharedTorrc(TEMPLATE, spec(), { dataDirectory: data }).replace(
      /^Log notice stdout$/m,
      'Log err stdout',
    );
    writeFileSync(path.join(dir, 'torrc'), torrc);
    tor = spawn('tor', ['-f', path.join(dir, 'torrc'), '--defaults-torrc', '/dev/null'], { stdio: 'ignore' });
    await waitFor(
      'the control socket and cookie',
      () => existsSync(path.join(data, 'control')) && existsSync(path.join(data, 'control_auth_cookie')),
    );
  });
  after(() => {
    tor?.kill('SIGKILL');
  });

  test('ControlSocket <datadir>/control with the cookie <datadir>/control_auth_cookie', async () => {
    const health = await torHealth(data);
    assert.equal(health.networkEnabled, false);
    assert.equal(health.circuitEstablished, false);
  });
  test('no SOCKS listener of its own; one SETCONF gives each proxy its port and session group', async () => {
    const cookie = readFileSync(path.join(data, 'control_auth_cookie')).toString('hex');
    const [a, b] = [await freePort(), await freePort()];
    const replies = await control(path.join(data, 'control'), [
      `AUTHENTICATE ${cookie}`,
      'GETINFO net/listeners/socks',
      `SETCONF SocksPort="127.0.0.1:${a} SessionGroup=0 IsolateSOCKSAuth" SocksPort="127.0.0.1:${b} SessionGroup=1 IsolateSOCKSAuth"`,
      // With DisableNetwork 1 tor opens no listener (net/listeners stays empty): its configuration holds the ports.
      'GETCONF SocksPort',
      'GETCONF __LeaveStreamsUnattached __DisablePredictedCircuits MaxCircuitDirtiness',
      'QUIT',
    ]);
    assert.deepEqual(replies, [
      '250 OK',
      '250-net/listeners/socks=',
      '250 OK',
      '250 OK',
      `250-SocksPort=127.0.0.1:${a} SessionGroup=0 IsolateSOCKSAuth`,
      `250 SocksPort=127.0.0.1:${b} SessionGroup=1 IsolateSOCKSAuth`,
      '250-__LeaveStreamsUnattached=1',
      '250-__DisablePredictedCircuits=1',
      '250 MaxCircuitDirtiness=86400',
      '250 closing connection',
    ]);
  });
});
