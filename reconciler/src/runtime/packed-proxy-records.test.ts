import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { TorfleetError } from '../errors.js';
import { tempDir } from '../testing/temp-dir.js';
import { PackedProxyRecords, type PackedProxyRecord } from './packed-proxy-records.js';

const FINGERPRINT = 'A'.repeat(40);
const record = (i: number, over: Partial<PackedProxyRecord['proxy']> = {}): PackedProxyRecord => ({
  name: `pk-${String(i)}`,
  pool: 'pk',
  specHash: `hash${String(i)}`,
  revision: 'abc123',
  exitFingerprints: [FINGERPRINT],
  startedAt: '2026-12-03T00:00:00.000Z',
  proxy: {
    name: `pk-${String(i)}`,
    sessionGroup: i,
    listen: `127.0.0.1:${String(20700 + i)}`,
    exits: [FINGERPRINT],
    rotateEverySeconds: null,
    ...over,
  },
});

function setUp(): { records: PackedProxyRecords; file: string } {
  const stateDir = tempDir('packed-records');
  const records = new PackedProxyRecords(stateDir);
  mkdirSync(path.dirname(records.file('pk-tor0')), { recursive: true });
  return { records, file: records.file('pk-tor0') };
}

describe('packed proxy records', () => {
  test('written whole (mode 0600) and read back; none yet is null', async () => {
    const { records, file } = setUp();
    assert.equal(await records.read('pk-tor0'), null);
    await records.write('pk-tor0', { testingNetwork: true, proxies: [record(0), record(1)] });
    assert.deepEqual(await records.read('pk-tor0'), { testingNetwork: true, proxies: [record(0), record(1)] });
    assert.equal(statSync(file).mode & 0o777, 0o600);
  });

  test('an unchanged list is not written again', async () => {
    const { records, file } = setUp();
    await records.write('pk-tor0', { testingNetwork: false, proxies: [record(0)] });
    const first = statSync(file);
    await new Promise((resolve) => setTimeout(resolve, 20));
    await records.write('pk-tor0', { testingNetwork: false, proxies: [record(0)] });
    assert.equal(statSync(file).mtimeMs, first.mtimeMs);
    assert.equal(statSync(file).ino, first.ino);
  });

  test('a list its controller would refuse is never written', async () => {
    const { records, file } = setUp();
    await assert.rejects(
      records.write('pk-tor0', { testingNetwork: false, proxies: [record(0), record(1, { sessionGroup: 0 })] }),
      /sessionGroup 0 is also pk-0's/,
    );
    assert.throws(() => readFileSync(file), /ENOENT/);
  });

  test('a shared tor name that is not one is refused before any path is built', () => {
    const { records } = setUp();
    for (const name of ['../etc', 'pk-0', 'pk-tor0/../../x', '']) {
      assert.throws(() => records.file(name), /refusing shared tor name/, name);
    }
  });

  // Anyone with disk access can write the file: each is refused with the file named and the way out.
  const HOSTILE: readonly { name: string; text: string; why: RegExp }[] = [
    { name: 'not JSON', text: '{"formatVersion": 1, ', why: /JSON/ },
    {
      name: 'another format',
      text: '{"formatVersion": 2, "testingNetwork": false, "proxies": []}',
      why: /formatVersion/,
    },
    { name: 'no list', text: '{"formatVersion": 1, "testingNetwork": false, "proxies": {}}', why: /not a list/ },
    {
      name: 'a proxy of another pool',
      text: JSON.stringify({
        formatVersion: 1,
        testingNetwork: false,
        proxies: [{ ...record(0), name: 'other-0', pool: 'other' }],
      }),
      why: /not of pool pk/,
    },
    {
      name: 'a fingerprint that is not one',
      text: JSON.stringify({
        formatVersion: 1,
        testingNetwork: false,
        proxies: [{ ...record(0), exitFingerprints: ['x'] }],
      }),
      why: /exitFingerprints/,
    },
    {
      name: 'a SocksPort line broken by a newline',
      text: JSON.stringify({
        formatVersion: 1,
        testingNetwork: false,
        proxies: [record(0, { listen: '127.0.0.1:20700\nControlPort 9051' })],
      }),
      why: /listen must be an IP literal/,
    },
    {
      name: 'a controller entry of another proxy',
      text: JSON.stringify({
        formatVersion: 1,
        testingNetwork: false,
        proxies: [{ ...record(0), proxy: record(1).proxy }],
      }),
      why: /no controller entry/,
    },
  ];
  for (const c of HOSTILE) {
    test(`refused: ${c.name}`, async () => {
      const { records, file } = setUp();
      writeFileSync(file, c.text);
      await assert.rejects(records.read('pk-tor0'), (error: unknown) => {
        assert.ok(error instanceof TorfleetError);
        assert.equal(error.code, 'RUNTIME');
        assert.match(error.message, c.why);
        assert.ok(error.message.startsWith(`${file} is not a list of packed proxies torfleet wrote`), error.message);
        assert.match(error.message, /the next pass rewrites it, or remove it$/);
        return true;
      });
    });
  }
});
