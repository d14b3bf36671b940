import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { ConfigError, errorMessage, TorfleetError } from '../errors.js';
import { FleetValidationError, type FleetIssue } from '../fleet/fleet-issue.js';
import { parseFleet } from '../fleet/load-fleet.js';
import { readSettings } from '../settings.js';
import { childProcessReader, fromWireError, toWireError } from './fleet-reader.js';

const issue = (line: number, message: string): FleetIssue => ({
  file: 'fleet/fleet.yaml',
  path: 'gateway.upstreams[0].url',
  line,
  column: 7,
  message,
});

const ERRORS: readonly {
  readonly name: string;
  readonly error: unknown;
  readonly kind: 'invalid' | 'torfleet' | 'other';
}[] = [
  { name: 'one issue', error: new FleetValidationError([issue(3, 'not a URL')]), kind: 'invalid' },
  {
    name: 'three issues',
    error: new FleetValidationError([issue(3, 'a'), issue(4, 'b'), issue(9, 'c')]),
    kind: 'invalid',
  },
  { name: 'a ConfigError', error: new ConfigError('no fleet to read: set TORFLEET_FLEET_FILE'), kind: 'torfleet' },
  {
    name: 'a TorfleetError with a cause',
    error: new TorfleetError('FLEET_UNREADABLE', 'stalled', 'cannot read fleet file f', {
      cause: new Error('EACCES: permission denied'),
    }),
    kind: 'torfleet',
  },
  { name: 'a plain Error (a bug)', error: new Error('boom'), kind: 'other' },
  { name: 'a thrown string', error: 'odd', kind: 'other' },
];

for (const { name, error, kind } of ERRORS) {
  test(`an error crosses from the reader child with its class and its one line: ${name}`, () => {
    const wire = toWireError(error);
    assert.equal(wire.kind, kind);
    const back = fromWireError(structuredClone(wire)); // as it crosses the IPC channel
    assert.equal(errorMessage(back), errorMessage(error));
    assert.equal(back instanceof FleetValidationError, error instanceof FleetValidationError);
    assert.equal(back instanceof TorfleetError, error instanceof TorfleetError);
    if (error instanceof TorfleetError && back instanceof TorfleetError) {
      assert.equal(back.code, error.code);
      assert.equal(back.disposition, error.disposition);
    }
    if (error instanceof FleetValidationError && back instanceof FleetValidationError) {
      assert.deepEqual(back.issues, error.issues);
    }
  });
}

const FLEET = `apiVersion: torfleet/v1
kind: Fleet
pools: []
gateway:
  listen: 127.0.0.1:26999
  token: \${GW_TOKEN}
  default: socks
  upstreams:
    - name: socks
      url: socks5://127.0.0.1:26901
`;

test('the reader child reads the file, substitutes the env, and reads nothing new for the same revision', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'fleet-reader-'));
  const file = path.join(dir, 'fleet.yaml');
  writeFileSync(file, FLEET);
  const env = { ...process.env, TORFLEET_FLEET_FILE: file, GW_TOKEN: 'sekret-0123456789abcdef' };
  const read = childProcessReader(env, readSettings(env), true);
  const found = await read(undefined);
  assert.deepEqual(found.watch, { kind: 'file', file });
  assert.ok(found.fleet);
  assert.equal(found.fleet.pools, 0);
  assert.equal(found.fleet.input.corporate, true);
  const { gateway } = found.fleet.input;
  assert.ok(gateway);
  assert.equal(gateway.token?.reveal(), 'sekret-0123456789abcdef', 'the Secret is wrapped again');
  assert.deepEqual(
    gateway.upstreams.map((u) => [u.protocol, u.host, u.port]),
    [['socks5', '127.0.0.1', 26901]],
  );
  const again = await read(found.revision);
  assert.equal(again.revision, found.revision);
  assert.equal(again.fleet, undefined, 'the same revision: not parsed again');
});

test('an invalid fleet: the same located error as the loader in this process gives', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'fleet-reader-'));
  const file = path.join(dir, 'fleet.yaml');
  const text = FLEET.replace('socks5://127.0.0.1:26901', 'socks9://nowhere');
  writeFileSync(file, text);
  const env = { ...process.env, TORFLEET_FLEET_FILE: file, GW_TOKEN: 'sekret-0123456789abcdef' };
  const expected = (() => {
    try {
      parseFleet(file, text, { env, geoipFile: 'if-readable' });
    } catch (error) {
      return error;
    }
    return undefined;
  })();
  assert.ok(expected instanceof FleetValidationError);
  await assert.rejects(childProcessReader(env, readSettings(env), true)(undefined), (error: unknown) => {
    assert.ok(error instanceof FleetValidationError);
    assert.equal(error.message, expected.message);
    assert.match(error.message, /fleet\.yaml:\d+:\d+: /);
    return true;
  });
});

test('a source that cannot be read: its one-line error', async () => {
  const env = { ...process.env, TORFLEET_FLEET_FILE: path.join(tmpdir(), 'no-such-dir-fleet', 'fleet.yaml') };
  await assert.rejects(childProcessReader(env, readSettings(env), true)(undefined), (error: unknown) => {
    assert.ok(error instanceof TorfleetError);
    assert.match(errorMessage(error), /no-such-dir-fleet/);
    return true;
  });
});
