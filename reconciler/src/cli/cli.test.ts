import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { packagePath } from '../package-root.js';
import { buildOnionooDetails } from '../testing/onionoo-fixture.js';
import { OnionooTestServer } from '../testing/onionoo-server.js';
import { sharedConsensusFile, sharedGeoIpFile } from '../testing/shared-data.js';
import { runTorfleet, type CliResult } from '../testing/run-cli.js';
import { tempDir } from '../testing/temp-dir.js';

/** Runs the built `torfleet` bin as a user would, with only the given TORFLEET_* settings. */
const torfleet = runTorfleet;

function assertNoStack(result: CliResult): void {
  assert.doesNotMatch(result.stderr, /\n\s+at /, `a stack trace was printed:\n${result.stderr}`);
}

describe('torfleet validate', () => {
  const dir = tempDir('cli-validate');
  const noDb = { TORFLEET_DB: path.join(dir, 'none.db') };

  test('the example fleet is valid: exit 0', async () => {
    const result = await torfleet(['validate', packagePath('fleet', 'fleet.yaml')], noDb);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /fleet\.yaml: valid, 3 pool\(s\), 10 proxies\n/);
  });

  test('an invalid fleet: exit 1, every problem on stderr as file:line:col, no stack trace', async () => {
    const file = path.join(dir, 'bad.yaml');
    writeFileSync(
      file,
      'apiVersion: torfleet/v1\nkind: Fleet\npools:\n  - name: Bad\n    geo: USA\n    mode: strict\n    count: 1\n    basePort: 19050\n',
    );
    const result = await torfleet(['validate', file], noDb);
    assert.equal(result.code, 1);
    assert.match(result.stderr, new RegExp(`${file}:4:11: pools\\[0\\]\\.name: "Bad" is not a pool name`));
    assert.match(result.stderr, new RegExp(`${file}:5:10: pools\\[0\\]\\.geo: "USA" is not one of: US, NON_US`));
    assert.match(result.stdout, /invalid, 2 problems/);
    assertNoStack(result);
  });

  test('--json reports errors and warnings as data', async () => {
    const file = path.join(dir, 'public.yaml');
    writeFileSync(
      file,
      'apiVersion: torfleet/v1\nkind: Fleet\npools:\n  - name: p\n    geo: US\n    mode: strict\n    count: 1\n    basePort: 19050\n    bind: 0.0.0.0\n',
    );
    const result = await torfleet(['validate', '--json', file], noDb);
    assert.equal(result.code, 0);
    const report = JSON.parse(result.stdout) as {
      valid: boolean;
      errors: unknown[];
      warnings: { path: string; line: number }[];
    };
    assert.equal(report.valid, true);
    assert.deepEqual(report.errors, []);
    assert.deepEqual([report.warnings[0]?.path, report.warnings[0]?.line], ['pools[0].bind', 9]);
  });

  test('the default file comes from TORFLEET_FLEET_FILE', async () => {
    const result = await torfleet(['validate'], { ...noDb, TORFLEET_FLEET_FILE: path.join(dir, 'missing.yaml') });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^torfleet: cannot read fleet file .*missing\.yaml; check the path/);
    assertNoStack(result);
  });

  test('usage errors are one readable line', async () => {
    for (const args of [['validate', 'a', 'b'], ['validate', '--bogus'], ['frobnicate'], ['nodes', 'shuffle']]) {
      const result = await torfleet(args, noDb);
      assert.equal(result.code, 1, args.join(' '));
      assert.match(result.stderr, /^torfleet: /);
      assertNoStack(result);
    }
  });
});

describe('torfleet nodes', () => {
  const dir = tempDir('cli-nodes');
  const server = new OnionooTestServer(buildOnionooDetails());
  let onionoo: Record<string, string> = {};
  before(async () => {
    onionoo = { TORFLEET_ONIONOO_URL: await server.start(), TORFLEET_DB: path.join(dir, 'onionoo.db') };
  });
  after(() => server.stop());

  test('refresh from a loopback Onionoo, then stats --json in the contract shape', async () => {
    const refreshed = await torfleet(['nodes', 'refresh'], onionoo);
    assert.equal(refreshed.code, 0, refreshed.stderr);
    assert.match(
      refreshed.stdout,
      /^updated from onionoo http:\/\/127\.0\.0\.1:\d+: 6088 relays; eligible exits US 294, NON_US 1132/,
    );
    const again = await torfleet(['nodes', 'refresh'], onionoo);
    assert.match(again.stdout, /^not modified/);
    const stats = await torfleet(['nodes', 'stats', '--json'], onionoo);
    assert.equal(stats.code, 0);
    const parsed = JSON.parse(stats.stdout) as Record<string, unknown>;
    assert.deepEqual(Object.keys(parsed), ['exits', 'relays', 'relaysPublished', 'refreshedAt', 'stale']);
    assert.deepEqual(parsed.exits, { US: 294, NON_US: 1132 });
    assert.equal(parsed.relays, 6088);
    assert.equal(parsed.relaysPublished, '2022-11-19T10:00:00.000Z');
    assert.equal(parsed.stale, true, 'data from 2022 is stale today');
    const human = await torfleet(['nodes', 'stats'], onionoo);
    assert.match(human.stdout, /eligible exits\s+US 294, NON_US 1132/);
  });

  test('validate checks counts against the node database once it holds relays', async () => {
    const file = path.join(dir, 'greedy.yaml');
    writeFileSync(
      file,
      'apiVersion: torfleet/v1\nkind: Fleet\npools:\n  - name: p\n    geo: US\n    mode: strict\n    count: 300\n    basePort: 20000\n',
    );
    const result = await torfleet(['validate', file], onionoo);
    assert.equal(result.code, 1);
    assert.match(
      result.stderr,
      /:7:12: pools\[0\]\.count: 300 strict proxies need 300 distinct exits, but the node database has only ever known 294 in US/,
    );
    assert.equal((await torfleet(['validate', '--no-nodes', file], onionoo)).code, 0);
  });

  test('refresh from the shared consensus and GeoIP file', async () => {
    const env = {
      TORFLEET_NODE_SOURCE: 'consensus',
      TORFLEET_CONSENSUS_URL: sharedConsensusFile,
      TORFLEET_GEOIP_FILE: sharedGeoIpFile,
      TORFLEET_DB: path.join(dir, 'consensus.db'),
    };
    const result = await torfleet(['nodes', 'refresh'], env);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^updated from consensus .*: 6088 relays; eligible exits US 294, NON_US 1132/);
  });

  test('an unreachable Onionoo: exit 1 with a readable error, logged retries', async () => {
    const closed = await torfleet(['nodes', 'refresh'], {
      TORFLEET_ONIONOO_URL: 'http://127.0.0.1:9', // discard port: nothing listens
      TORFLEET_DB: path.join(dir, 'down.db'),
    });
    assert.equal(closed.code, 1);
    assert.match(
      closed.stderr,
      /torfleet: onionoo details at http:\/\/127\.0\.0\.1:9\/details\?.* is unavailable after 4 attempts/,
    );
    assertNoStack(closed);
  });

  test('bad settings are named', async () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{ TORFLEET_NODE_SOURCE: 'csv' }, /TORFLEET_NODE_SOURCE is "csv"; use onionoo or consensus/],
      [{ TORFLEET_NODE_SOURCE: 'consensus' }, /needs TORFLEET_CONSENSUS_URL .* and TORFLEET_GEOIP_FILE/],
      [{ TORFLEET_NODES_MAX_AGE: '3 hours' }, /TORFLEET_NODES_MAX_AGE is "3 hours"/],
    ];
    for (const [env, message] of cases) {
      const result = await torfleet(['nodes', 'refresh'], { TORFLEET_DB: path.join(dir, 'x.db'), ...env });
      assert.equal(result.code, 1);
      assert.match(result.stderr, message);
    }
  });
});
