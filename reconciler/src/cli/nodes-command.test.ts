import assert from 'node:assert/strict';
import { closeSync, existsSync, openSync, writeFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { runTorfleet, type CliResult } from '../testing/run-cli.js';
import { sharedConsensusFile, sharedGeoIpFile } from '../testing/shared-data.js';
import { tempDir } from '../testing/temp-dir.js';

/** The consensus source reads files: no network at all. */
const CONSENSUS = {
  TORFLEET_NODE_SOURCE: 'consensus',
  TORFLEET_CONSENSUS_URL: sharedConsensusFile,
  TORFLEET_GEOIP_FILE: sharedGeoIpFile,
};

function assertOneReadableLine(result: CliResult, pattern: RegExp): void {
  assert.doesNotMatch(result.stderr, /\n\s+at /, `a stack trace was printed:\n${result.stderr}`);
  assert.doesNotMatch(result.stderr, /internal error/);
  const lines = result.stderr.split('\n').filter((line) => line !== '');
  assert.equal(lines.length, 1, `one line on stderr, got:\n${result.stderr}`);
  assert.match(lines[0] ?? '', pattern);
}

function assertLastLine(result: CliResult, pattern: RegExp): void {
  assert.doesNotMatch(result.stderr, /\n\s+at /, `a stack trace was printed:\n${result.stderr}`);
  assert.match(result.stderr.trimEnd().split('\n').at(-1) ?? '', pattern);
}

async function filledDatabase(): Promise<string> {
  const file = path.join(tempDir('cli-db'), 'nodes.db');
  const result = await runTorfleet(['nodes', 'refresh'], { ...CONSENSUS, TORFLEET_DB: file });
  assert.equal(result.code, 0, result.stderr);
  return file;
}

const DAMAGE: readonly [string, (file: string) => void, RegExp][] = [
  [
    'garbage over pages',
    (file) => {
      const fd = openSync(file, 'r+');
      for (const page of [2, 30, 60]) writeSync(fd, Buffer.alloc(4096, 0x5a), 0, 4096, 4096 * page);
      closeSync(fd);
    },
    /malformed|corrupt/,
  ],
  [
    'a dropped table',
    (file) => {
      const db = new Database(file);
      db.exec('DROP TABLE relays');
      db.close();
    },
    /table relays is missing/,
  ],
  [
    'a 0-byte file',
    (file) => {
      writeFileSync(file, '');
    },
    /empty \(0 bytes\)/,
  ],
  [
    'a text file',
    (file) => {
      writeFileSync(file, 'hello\n'.repeat(1000));
    },
    /not a database/,
  ],
];

describe('torfleet nodes on a damaged database: one readable line, the file moved aside, rebuilt', () => {
  for (const [name, damage, problem] of DAMAGE) {
    test(`nodes stats, then nodes refresh: ${name}`, async () => {
      const file = await filledDatabase();
      damage(file);
      const stats = await runTorfleet(['nodes', 'stats'], { TORFLEET_DB: file });
      assert.equal(stats.code, 0);
      assertOneReadableLine(
        stats,
        new RegExp(
          `^torfleet: the node database ${file} was damaged \\(.*\\); moved it aside to ${file}\\.corrupt-\\S+ and started a fresh one$`,
        ),
      );
      assert.match(stats.stderr, problem);
      assert.match(stats.stdout, /relays published\s+never\s+STALE/);
      const refresh = await runTorfleet(['nodes', 'refresh'], { ...CONSENSUS, TORFLEET_DB: file });
      assert.equal(refresh.code, 0, refresh.stderr);
      assert.match(refresh.stdout, /^updated from consensus .*: 6088 relays; eligible exits US 294, NON_US 1132/);
    });
  }

  test('nodes refresh straight on a damaged file rebuilds it and fills it', async () => {
    const file = await filledDatabase();
    writeFileSync(file, '');
    const refresh = await runTorfleet(['nodes', 'refresh'], { ...CONSENSUS, TORFLEET_DB: file });
    assert.equal(refresh.code, 0);
    assertOneReadableLine(refresh, /^torfleet: the node database .* was damaged \(the file is empty \(0 bytes\)/);
    assert.match(refresh.stdout, /^updated from consensus/);
  });
});

describe('torfleet nodes refuses a TORFLEET_DB it cannot use, before creating anything', () => {
  const dir = tempDir('cli-db-path');
  const CASES: readonly [string, RegExp][] = [
    [
      '/proc/torfleet/nodes.db',
      /^torfleet: TORFLEET_DB \/proc\/torfleet\/nodes\.db: it is under \/proc, \/sys or \/dev/,
    ],
    ['/sys/torfleet.db', /^torfleet: TORFLEET_DB \/sys\/torfleet\.db: it is under \/proc, \/sys or \/dev/],
    ['/dev/null', /^torfleet: TORFLEET_DB \/dev\/null: it is under \/proc, \/sys or \/dev/],
    [dir, /it exists and is a directory; set TORFLEET_DB to a file path/],
  ];
  for (const [file, message] of CASES) {
    test(file, async () => {
      for (const args of [
        ['nodes', 'stats'],
        ['nodes', 'refresh'],
      ]) {
        const result = await runTorfleet(args, { ...CONSENSUS, TORFLEET_DB: file });
        assert.equal(result.code, 1);
        assertOneReadableLine(result, message);
      }
      assert.equal(existsSync('/proc/torfleet'), false);
    });
  }
});

describe('torfleet nodes refresh and a refused snapshot', () => {
  test('an older consensus is refused (exit 1, one line, the stored snapshot kept); --accept-snapshot takes it', async () => {
    const dir = tempDir('cli-refuse');
    const file = path.join(dir, 'nodes.db');
    const newer = path.join(dir, 'consensus-newer');
    const { readFileSync } = await import('node:fs');
    writeFileSync(
      newer,
      readFileSync(sharedConsensusFile, 'utf8').replace(/^valid-after .*$/m, 'valid-after 2022-11-19 11:00:00'),
    );
    const env = { ...CONSENSUS, TORFLEET_DB: file };
    assert.equal((await runTorfleet(['nodes', 'refresh'], { ...env, TORFLEET_CONSENSUS_URL: newer })).code, 0);
    const refused = await runTorfleet(['nodes', 'refresh'], env);
    assert.equal(refused.code, 1);
    // The structured log line of the refusal, then the readable one.
    assert.match(refused.stderr, /^\{"time":.*"msg":"node snapshot refused; keeping the stored one".*"reason":"older"/);
    assertLastLine(
      refused,
      /^torfleet: refused the snapshot from consensus .* \(older\): relays_published 2022-11-19T10:00:00\.000Z is older than the stored snapshot's 2022-11-19T11:00:00\.000Z; kept the stored snapshot; if the change is real, run torfleet nodes refresh --accept-snapshot$/,
    );
    const stats = await runTorfleet(['nodes', 'stats', '--json'], env);
    const parsed = JSON.parse(stats.stdout) as { relaysPublished: string; lastRefusal?: { reason: string } };
    assert.equal(parsed.relaysPublished, '2022-11-19T11:00:00.000Z');
    assert.equal(parsed.lastRefusal?.reason, 'older');
    const human = await runTorfleet(['nodes', 'stats'], env);
    assert.match(human.stdout, /REFUSED\s+\S+ \(older\): relays_published/);
    const accepted = await runTorfleet(['nodes', 'refresh', '--accept-snapshot'], env);
    assert.equal(accepted.code, 0, accepted.stderr);
    assert.match(accepted.stdout, /^updated from consensus .*: 6088 relays \(accepted although older\)/);
    const after = JSON.parse((await runTorfleet(['nodes', 'stats', '--json'], env)).stdout) as Record<string, unknown>;
    assert.deepEqual(Object.keys(after), ['exits', 'relays', 'relaysPublished', 'refreshedAt', 'stale']);
  });

  test('TORFLEET_NODES_MAX_DROP must be a share', async () => {
    const result = await runTorfleet(['nodes', 'stats'], { TORFLEET_DB: ':memory:', TORFLEET_NODES_MAX_DROP: '2' });
    assert.equal(result.code, 1);
    assertOneReadableLine(result, /^torfleet: TORFLEET_NODES_MAX_DROP is "2"; use a share from 0 to 1/);
  });
});
