import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { tempDir } from '../testing/temp-dir.js';
import { ControlConnection, type ControlReply } from './control-connection.js';

/**
 * The packing controller's persistent connection against scripted ControlSocket peers. The socket lives in a data
 * directory the shared tor (maybe a compromised one) can write: garbage, huge lines, silence and a close in the
 * middle of a reply must end in a readable error, promptly, never a hang, a crash or unbounded memory.
 */
describe('ControlConnection against scripted peers', () => {
  const dir = tempDir('control-connection');
  const servers: Server[] = [];
  after(() => {
    for (const server of servers) server.close();
  });

  /** A data directory whose `control` socket authenticates anything, then runs `behave` on each later line. */
  async function peer(name: string, behave: (socket: Socket, line: string) => void): Promise<string> {
    const data = path.join(dir, name);
    mkdirSync(data);
    writeFileSync(path.join(data, 'control_auth_cookie'), Buffer.alloc(32, 7));
    const server = createServer((socket) => {
      socket.on('error', () => undefined);
      let pending = '';
      socket.on('data', (chunk: Buffer) => {
        pending += chunk.toString('latin1');
        for (let end = pending.indexOf('\r\n'); end !== -1; end = pending.indexOf('\r\n')) {
          const line = pending.slice(0, end);
          pending = pending.slice(end + 2);
          if (line.startsWith('AUTHENTICATE ')) {
            if (line === `AUTHENTICATE ${'07'.repeat(32)}`) socket.write('250 OK\r\n');
            else socket.write('515 Authentication failed: Wrong length on authentication cookie.\r\n');
          } else behave(socket, line);
        }
      });
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(path.join(data, 'control'), resolve));
    return data;
  }

  const open = (data: string, onEvent: (event: ControlReply) => void = () => undefined): Promise<ControlConnection> =>
    ControlConnection.open({
      socketPath: path.join(data, 'control'),
      cookieFile: path.join(data, 'control_auth_cookie'),
      onEvent,
      commandTimeoutMs: 500,
      maxLineBytes: 1024,
      maxReplyBytes: 8 * 1024,
      maxEventBytes: 2048,
    });

  test('pipelined commands get their own replies in order, data blocks and events between them included', async () => {
    const events: string[] = [];
    const replies: Record<string, string[]> = {
      'GETINFO a': ['650 STREAM 1 NEW 0 x:1\r\n250+a=\r\nline one\r\n..dotted\r\n.\r\n250 OK\r\n'],
      // split mid-line, an event of several lines after it
      'GETINFO b': ['250-b=2\r\n250 O', 'K\r\n650-CONF_CHANGED\r\n650-X=1\r\n650 OK\r\n'],
      'GETINFO c': ['250 OK\r\n'],
    };
    let written = Promise.resolve();
    const data = await peer('polite', (socket, line) => {
      for (const part of replies[line] ?? ['552 Unrecognized key\r\n']) {
        written = written.then(async () => {
          await new Promise((resolve) => setTimeout(resolve, 10));
          socket.write(part);
        });
      }
    });
    const connection = await open(data, (event) => {
      events.push(event.lines.map((line) => line.text).join('|'));
      throw new Error('a handler that throws does not break the connection');
    });
    const [a, b, ok, refused] = await Promise.allSettled([
      connection.command('GETINFO a'),
      connection.command('GETINFO b'),
      connection.command('GETINFO c'),
      connection.command('GETINFO d'),
    ]);
    assert.deepEqual(a.status === 'fulfilled' && a.value.lines[0]?.data, ['line one', '.dotted']);
    assert.equal(ok.status === 'fulfilled' && ok.value.lines[0]?.text, 'OK');
    assert.equal(b.status === 'fulfilled' && b.value.lines[0]?.text, 'b=2');
    assert.match(String(refused.status === 'rejected' && refused.reason), /tor refused GETINFO: 552 Unrecognized key/);
    assert.deepEqual(events, ['STREAM 1 NEW 0 x:1', 'CONF_CHANGED|X=1|OK']);
    assert.equal(connection.isOpen, true, 'a refused command leaves the connection usable');
    connection.close();
  });

  const hostile: [string, (socket: Socket) => void, RegExp][] = [
    ['garbage', (socket) => socket.write('HTTP/1.1 400 Bad Request\r\n\r\n'), /not a control-protocol reply line/],
    ['a huge line', (socket) => socket.write(Buffer.alloc(64 * 1024, 'a')), /a line longer than 1024 bytes/],
    [
      'a reply over the cap',
      (socket) => {
        for (let i = 0; i < 100; i++) socket.write(`250-${'x'.repeat(200)}\r\n`);
      },
      /a reply longer than 8192 bytes/,
    ],
    ['an event over its cap', (socket) => socket.write(`650+NS\r\n${'r x\r\n'.repeat(600)}`), /longer than 2048/],
    ['silence', () => undefined, /no reply to GETINFO within 500 ms/],
    [
      'a close mid-reply',
      (socket) => socket.end('250-a=1\r\n250-b='),
      /closed the connection in the middle of a reply/,
    ],
    ['a close', (socket) => socket.end(), /tor closed the connection/],
  ];
  for (const [what, behave, error] of hostile) {
    test(`${what}: the command rejects, the connection ends with the reason`, async () => {
      const data = await peer(what.replace(/\W+/g, '-'), (socket) => {
        behave(socket);
      });
      const connection = await open(data);
      const started = Date.now();
      await assert.rejects(connection.command('GETINFO x'), error);
      assert.ok(Date.now() - started < 2000);
      assert.match((await connection.closed).message, error);
      assert.equal(connection.isOpen, false);
      await assert.rejects(connection.command('GETINFO y'), error, 'later commands fail at once');
    });
  }

  test('a reply to no command ends the connection; a command with a line break is never sent', async () => {
    const seen: string[] = [];
    const data = await peer('unsolicited', (socket, line) => {
      seen.push(line);
      socket.write('250 OK\r\n250 OK\r\n');
    });
    const connection = await open(data);
    await assert.rejects(connection.command('GETINFO x\r\nSETCONF SocksPort=0.0.0.0:1'), /line break/);
    assert.equal((await connection.command('GETINFO x')).status, 250);
    assert.match((await connection.closed).message, /a reply to no command/);
    assert.deepEqual(seen, ['GETINFO x']);
  });

  test('a wrong cookie is refused with tor’s words; a cookie that is a device is not read', async () => {
    const data = await peer('wrong-cookie', () => undefined);
    writeFileSync(path.join(data, 'control_auth_cookie'), Buffer.alloc(32, 1));
    await assert.rejects(open(data), /515 Authentication failed/);
    const device = path.join(dir, 'device');
    mkdirSync(device);
    symlinkSync('/dev/zero', path.join(device, 'control_auth_cookie'));
    await assert.rejects(open(device), /control cookie .*a device, not a regular file/);
    await assert.rejects(open(path.join(dir, 'nowhere')), /no control cookie .* yet \(tor not started\?\)/);
  });
});
