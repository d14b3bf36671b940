import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { ConfigError } from '../errors.js';
import { tempDir } from '../testing/temp-dir.js';
import { assertUsableDbPath } from './usable-db-path.js';

const dir = tempDir('db-path');
const fifo = path.join(dir, 'nodes.fifo');
execFileSync('mkfifo', [fifo]);
const file = path.join(dir, 'file');
writeFileSync(file, '');
mkdirSync(path.join(dir, 'adir'));
symlinkSync('/proc/self', path.join(dir, 'proc-link'));

describe('assertUsableDbPath', () => {
  const OK = [':memory:', path.join(dir, 'nodes.db'), path.join(dir, 'new', 'deeper', 'nodes.db'), file];
  for (const good of OK) {
    test(`accepts ${good}`, () => {
      assert.doesNotThrow(() => {
        assertUsableDbPath(good);
      });
    });
  }

  const REFUSED: readonly [string, string, RegExp][] = [
    ['a path under /proc', '/proc/torfleet/nodes.db', /under \/proc, \/sys or \/dev/],
    ['/proc/self/fd/0', '/proc/self/fd/0', /under \/proc, \/sys or \/dev/],
    ['a path under /sys', '/sys/nodes.db', /under \/proc, \/sys or \/dev/],
    ['/dev/null', '/dev/null', /under \/proc, \/sys or \/dev/],
    ['a path through a link into /proc', path.join(dir, 'proc-link', 'nodes.db'), /leads to \/proc\//],
    ['a directory', path.join(dir, 'adir'), /exists and is a directory/],
    ['a FIFO', fifo, /exists and is a FIFO \(named pipe\); set TORFLEET_DB/],
    ['a path through a regular file', path.join(file, 'nodes.db'), /is not a directory/],
    ['an empty path', '', /the path is empty/],
  ];
  for (const [name, bad, message] of REFUSED) {
    test(`refuses ${name}`, () => {
      assert.throws(
        () => {
          assertUsableDbPath(bad);
        },
        (error: unknown) =>
          error instanceof ConfigError && message.test(error.message) && /set TORFLEET_DB to/.test(error.message),
      );
    });
  }
});
