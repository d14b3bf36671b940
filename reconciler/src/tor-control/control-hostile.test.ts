import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { tempDir } from '../testing/temp-dir.js';
import { torHealth } from './control-client.js';

/**
 * The ControlSocket and cookie live in the proxy's data directory, which its tor (another uid, maybe a
 * compromised one) can write: whatever answers there is a peer, not a trusted tor. It must never hang the
 * health check, grow the reconciler's memory, or make it read a device. (The health monitor asks every
 * running proxy every 15 s.)
 */
describe('torHealth against a hostile ControlSocket', () => {
  const dir = tempDir('control-hostile');
  const servers: Server[] = [];
  after(() => {
    for (const server of servers) server.close();
  });

  /** A data directory with a valid-looking cookie whose `control` socket answers with `behave`. */
  async function dataDirectory(name: string, behave: (socket: Socket) => void): Promise<string> {
    const data = path.join(dir, name);
    mkdirSync(data);
    writeFileSync(path.join(data, 'control_auth_cookie'), Buffer.alloc(32, 1));
    const server = createServer((socket) => {
      socket.on('error', () => undefined);
      behave(socket);
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(path.join(data, 'control'), resolve));
    return data;
  }

  test('a peer that trickles bytes forever is cut at the deadline (an idle timeout would never fire)', async () => {
    const data = await dataDirectory('trickle', (socket) => {
      const timer = setInterval(() => socket.write('250-x'), 50);
      socket.on('close', () => {
        clearInterval(timer);
      });
    });
    await assert.rejects(torHealth(data, 500), /no complete answer within 500 ms/);
  });

  test('a peer that floods is cut at the answer cap, not buffered', async () => {
    const data = await dataDirectory('flood', (socket) => {
      const chunk = Buffer.alloc(64 * 1024, 'a');
      const pump = (): void => {
        while (socket.write(chunk));
        socket.once('drain', pump);
      };
      pump();
    });
    await assert.rejects(torHealth(data, 5000), /answered more than 65536 bytes/);
  });

  test('garbage that closes is a readable error, not a health of 0 %', async () => {
    const data = await dataDirectory('garbage', (socket) => {
      socket.end('HTTP/1.1 400 Bad Request\r\n\r\n');
    });
    await assert.rejects(torHealth(data, 2000), /did not answer as tor does/);
  });

  test('a cookie that is a device is refused, not read forever', async () => {
    const data = path.join(dir, 'device-cookie');
    mkdirSync(data);
    symlinkSync('/dev/zero', path.join(data, 'control_auth_cookie'));
    await assert.rejects(torHealth(data, 2000), /control cookie .*a device, not a regular file/);
  });

  test('a well-behaved answer still parses', async () => {
    const data = await dataDirectory('polite', (socket) => {
      socket.once('data', () => {
        socket.end(
          '250 OK\r\n250-status/bootstrap-phase=NOTICE BOOTSTRAP PROGRESS=100 TAG=done SUMMARY="Done"\r\n' +
            '250-status/circuit-established=1\r\n250-network-liveness=up\r\n250 OK\r\n250 closing connection\r\n',
        );
      });
    });
    const health = await torHealth(data, 2000);
    assert.equal(health.bootstrapProgress, 100);
    assert.equal(health.circuitEstablished, true);
    assert.equal(health.networkEnabled, true);
  });
});
