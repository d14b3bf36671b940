import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { TorfleetError } from '../errors.js';
import { tempDir } from '../testing/temp-dir.js';
import { createGitSource } from './git-source.js';

/** Issue 8 item 7: a git server that accepts and never answers must not hang a read of the fleet. */
const PORT = 29600; // this file's port block: 29600-29609
const sockets = new Set<Socket>();
let server: Server;

describe('git source: a deadline on every git command', { timeout: 60_000 }, () => {
  before(async () => {
    server = createServer((socket) => {
      sockets.add(socket);
      socket.on('data', () => undefined); // read the request, never reply
      socket.on('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(PORT, '127.0.0.1', resolve));
  });
  after(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  });

  for (const url of [`http://127.0.0.1:${String(PORT)}/fleet.git`, `git://127.0.0.1:${String(PORT)}/fleet.git`]) {
    test(`fetch from ${url.split(':')[0] ?? ''}:// ends in a waiting error naming the repository and the setting`, async () => {
      const source = createGitSource({
        repository: url,
        branch: 'main',
        filePath: 'fleet/fleet.yaml',
        workDir: path.join(tempDir('rtgit'), 'clone'),
        timeoutMs: 500,
      });
      await assert.rejects(source.read(), (error: unknown) => {
        assert.ok(error instanceof TorfleetError, String(error));
        assert.equal(error.code, 'FLEET_UNREADABLE');
        assert.equal(error.disposition, 'waiting');
        assert.match(
          error.message,
          new RegExp(
            `fleet repository ${url}: cannot fetch branch main \\(no answer within 0\\.5 s \\(TORFLEET_GIT_TIMEOUT\\)\\)`,
          ),
        );
        return true;
      });
    });
  }
});
