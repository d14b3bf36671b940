import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { loadFleetFile } from '../fleet/load-fleet.js';
import { Secret } from '../fleet/secret.js';
import { packagePath } from '../package-root.js';
import { testFleet, testPool } from '../testing/fleet-fixtures.js';
import { findExecutable, verifyFleetTorrcs } from './verify-fleet-torrcs.js';
import { verifyTorrc } from './verify-torrc.js';

const TEMPLATE = readFileSync(packagePath('templates', 'torrc.tmpl'), 'utf8');

describe('verifyFleetTorrcs: tor --verify-config on each pool as validate runs it', () => {
  test('the example fleet: tor accepts every pool', async () => {
    const { fleet } = await loadFleetFile(packagePath('fleet', 'fleet.yaml'), { env: {} });
    assert.deepEqual(await verifyFleetTorrcs(fleet, TEMPLATE), []);
  });
  test('what tor rejects is reported per pool, naming its first proxy', async () => {
    const fleet = testFleet([testPool('a'), testPool('b', { mode: 'rotating', basePort: 20100 })]);
    const problems = await verifyFleetTorrcs(fleet, `${TEMPLATE}BogusOption 1\n`);
    assert.deepEqual(
      problems.map((p) => p.poolIndex),
      [0, 1],
    );
    assert.match(problems[1]?.message ?? '', /^tor rejects the torrc of b-0: .*Unknown option 'BogusOption'/);
  });
  test('tor is found on a PATH, and not on one without it', () => {
    assert.equal(findExecutable('tor', '/nonexistent:/also-not'), undefined);
    assert.match(findExecutable('tor', process.env.PATH) ?? '', /\/tor$/);
  });
});

describe('verifyTorrc never passes on a credential tor quotes', () => {
  test('tor echoes a value holding the credential: it is redacted, whole and in parts', async () => {
    const torrc = 'DisableNetwork 1\nSocksPort user:s3cretpw\nHTTPSProxyAuthenticator "user:s3cretpw"\n';
    await assert.rejects(verifyTorrc('p-0', torrc), (error: unknown) => {
      assert.ok(error instanceof Error);
      assert.match(error.message, /Couldn't parse address "\[redacted\]" for SocksPort/);
      assert.doesNotMatch(error.message, /s3cretpw/);
      return true;
    });
  });
  test('a fleet credential never shows in what validate reports', async () => {
    const secret = 'alice:hunter2hunter2';
    const fleet = testFleet([testPool('a')], { httpsProxy: { address: '192.0.2.1:3128', auth: new Secret(secret) } });
    const problems = await verifyFleetTorrcs(fleet, `${TEMPLATE}SocksPort ${secret}\n`);
    assert.equal(problems.length, 1);
    assert.doesNotMatch(problems[0]?.message ?? '', /hunter2|alice/);
  });
});
