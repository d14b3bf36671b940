import assert from 'node:assert/strict';
import { createServer, request } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import bencode from 'bencode';
import { Tracker } from './tracker.js';

const escapeBytes = (bytes: Buffer): string => [...bytes].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('');
const KNOWN = Buffer.alloc(20, 0xab);
const UNKNOWN = Buffer.alloc(20, 0xcd);
const peerId = (n: number): Buffer => Buffer.concat([Buffer.from('-TEST00-'), Buffer.alloc(12, n)]);

function announcePath(opts: { hash?: Buffer; peer?: number; port?: number; left?: number; extra?: string } = {}) {
  return (
    `/announce?info_hash=${escapeBytes(opts.hash ?? KNOWN)}&peer_id=${escapeBytes(peerId(opts.peer ?? 1))}` +
    `&port=${String(opts.port ?? 7000)}&uploaded=0&downloaded=0&left=${String(opts.left ?? 10)}${opts.extra ?? ''}`
  );
}

describe('the HTTP tracker', () => {
  const tracker = new Tracker({ isKnown: (hash) => hash === KNOWN.toString('hex'), intervalSeconds: 60 });
  tracker.addSeeder(KNOWN.toString('hex'), '127.0.0.1', 6881);
  const server = createServer(tracker.handle);
  let port = 0;
  before(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  after(() => {
    server.close();
  });

  function get(path: string, method = 'GET'): Promise<{ status: number; body: Record<string, unknown> }> {
    return new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path, method }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const raw = Buffer.concat(chunks);
          let body: Record<string, unknown>;
          try {
            body = bencode.decode(raw) as Record<string, unknown>;
          } catch {
            body = { raw: raw.toString() };
          }
          resolve({ status: res.statusCode ?? 0, body });
        });
      });
      req.on('error', reject);
      req.end();
    });
  }
  const failure = (body: Record<string, unknown>): string =>
    body['failure reason'] instanceof Uint8Array ? Buffer.from(body['failure reason']).toString() : '';

  test('a compact announce lists the seeder (BEP 23) and counts it as complete', async () => {
    const { status, body } = await get(announcePath({ extra: '&compact=1&event=started' }));
    assert.equal(status, 200);
    assert.equal(failure(body), '');
    assert.equal(body.interval, 60);
    assert.equal(Buffer.from(body.peers as Uint8Array).toString('hex'), '7f0000011ae1');
    assert.equal(body.complete, 1);
    assert.equal(body.incomplete, 1);
  });

  test('a second peer sees the first, with its address from the socket (not the ip parameter unless loopback)', async () => {
    await get(announcePath({ peer: 2, port: 7002, extra: '&ip=10.9.9.9' }));
    const { body } = await get(announcePath({ peer: 3, port: 7003, extra: '&compact=0' }));
    const peers = (body.peers as { ip: Uint8Array; port: number; 'peer id'?: Uint8Array }[]).map(
      (p) => `${Buffer.from(p.ip).toString()}:${String(p.port)}`,
    );
    // From loopback the ip parameter is believed (a local NAT or test rig); peer 1 announced from 127.0.0.1.
    assert.deepEqual(peers, ['127.0.0.1:6881', '127.0.0.1:7000', '10.9.9.9:7002']);
    const { body: noIds } = await get(announcePath({ peer: 3, port: 7003, extra: '&compact=0&no_peer_id=1' }));
    assert.ok((noIds.peers as Record<string, unknown>[]).every((p) => p['peer id'] === undefined));
  });

  test('stopped removes the peer and gets no peers', async () => {
    const { body } = await get(announcePath({ peer: 2, port: 7002, extra: '&ip=10.9.9.9&event=stopped' }));
    assert.equal((body.peers as Uint8Array).length, 0);
    const { body: after } = await get(announcePath({ peer: 4, port: 7004 }));
    assert.ok(!Buffer.from(after.peers as Uint8Array).includes(Buffer.from([10, 9, 9, 9])));
  });

  test('numwant caps the list', async () => {
    const { body } = await get(announcePath({ peer: 5, port: 7005, extra: '&numwant=1' }));
    assert.equal((body.peers as Uint8Array).length, 6);
  });

  test('an unknown infohash is refused with a failure reason and not tracked', async () => {
    const { status, body } = await get(announcePath({ hash: UNKNOWN }));
    assert.equal(status, 200);
    assert.match(failure(body), /unknown torrent/);
  });

  const hostile: [string, string, string, number, RegExp][] = [
    ['no parameters', 'GET', '/announce', 200, /info_hash/],
    ['a duplicated info_hash', 'GET', `${announcePath()}&info_hash=${escapeBytes(KNOWN)}`, 200, /more than once/],
    ['a malformed escape', 'GET', `${announcePath()}&key=%g0`, 200, /percent/],
    ['a bad port', 'GET', announcePath({ port: 0 }), 200, /port/],
    ['a bad event', 'GET', `${announcePath()}&event=boom`, 200, /event/],
    ['a 4 KB query', 'GET', `${announcePath()}&pad=${'x'.repeat(4000)}`, 414, /too long/],
    ['a POST', 'POST', announcePath(), 405, /GET/],
    ['another path', 'GET', '/scrape', 404, /announce/],
  ];
  for (const [name, method, path, status, reason] of hostile) {
    test(`hostile: ${name} gets ${String(status)} and a bencoded failure`, async () => {
      const answer = await get(path, method);
      assert.equal(answer.status, status);
      assert.match(failure(answer.body), reason);
    });
  }

  test('hostile: a 1 MB query string is refused (by node:http before the handler) and the tracker still answers', async () => {
    const status = await new Promise<string>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      let text = '';
      socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
      const done = (): void => {
        resolve(text.split('\r\n')[0] ?? '');
      };
      socket.on('close', done);
      socket.on('error', done);
      socket.write(`GET /announce?x=${'a'.repeat(1024 * 1024)} HTTP/1.1\r\nHost: x\r\n\r\n`);
    });
    assert.ok(status === '' || /^HTTP\/1\.1 4\d\d/.test(status), status);
    const { status: ok } = await get(announcePath());
    assert.equal(ok, 200);
  });

  test('a failing isKnown is a 500 with a failure reason, not a crash', async () => {
    const broken = new Tracker({
      isKnown: () => {
        throw new Error('store down');
      },
    });
    const other = createServer(broken.handle);
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
    const saved = port;
    port = (other.address() as AddressInfo).port;
    try {
      const { status, body } = await get(announcePath());
      assert.equal(status, 500);
      assert.match(failure(body), /tracker error/);
      assert.doesNotMatch(failure(body), /store down/);
    } finally {
      port = saved;
      other.close();
    }
  });
});

describe('the tracker over time', () => {
  test('a peer that stops announcing is dropped after twice the interval; the seeder stays', async () => {
    let now = 0;
    const tracker = new Tracker({ isKnown: () => true, intervalSeconds: 10, clock: () => now });
    tracker.addSeeder(KNOWN.toString('hex'), '127.0.0.1', 6881);
    const server = createServer(tracker.handle);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    const peersSeen = (path: string): Promise<string> =>
      new Promise((resolve, reject) => {
        request({ host: '127.0.0.1', port, path }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => {
            const body = bencode.decode(Buffer.concat(chunks)) as { peers: Uint8Array };
            resolve(Buffer.from(body.peers).toString('hex'));
          });
        })
          .on('error', reject)
          .end();
      });
    try {
      await peersSeen(announcePath({ peer: 1, port: 7001 }));
      now = 19_000;
      assert.equal(await peersSeen(announcePath({ peer: 2, port: 7002 })), '7f0000011ae1' + '7f0000011b59');
      now = 21_000;
      assert.equal(await peersSeen(announcePath({ peer: 2, port: 7002 })), '7f0000011ae1');
    } finally {
      server.close();
    }
  });
});
