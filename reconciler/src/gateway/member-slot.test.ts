import assert from 'node:assert/strict';
import { createServer, connect, Socket, type AddressInfo } from 'node:net';
import { test } from 'node:test';
import { carries, IdleMember, type MemberConnection, type MemberWay } from './member-slot.js';
import type { Route } from './route-types.js';
import { waitFor } from '../wait-for.js';

const routeA: Route = { name: 'a', kind: 'pool', members: [] };
const routeA2: Route = { name: 'a', kind: 'pool', members: [] }; // the same name after a table update
const routeB: Route = { name: 'b', kind: 'pool', members: [] };
const member = { kind: 'tor', id: 'a-0', pool: 'a', host: '127.0.0.1', port: 1 } as const;
const kept = (over: Partial<MemberConnection> = {}): MemberConnection => ({
  socket: new Socket(),
  member,
  absoluteForm: false,
  proxyAuthorization: null,
  route: routeA,
  session: null,
  target: { host: 'example.com', port: 80 },
  ...over,
});

test('carries: same route object, session and target; absolute form for any target', () => {
  const way: MemberWay = { route: routeA, session: null, target: { host: 'example.com', port: 80 } };
  const cases: [string, MemberConnection, MemberWay, boolean][] = [
    ['same everything', kept(), way, true],
    ['other port', kept(), { ...way, target: { host: 'example.com', port: 8080 } }, false],
    ['other host', kept(), { ...way, target: { host: 'example.org', port: 80 } }, false],
    ['other session', kept(), { ...way, session: 's1' }, false],
    ['session vs none', kept({ session: 's1' }), way, false],
    ['same session', kept({ session: 's1' }), { ...way, session: 's1' }, true],
    ['other route', kept(), { ...way, route: routeB }, false],
    ['same name, new table', kept(), { ...way, route: routeA2 }, false],
    ['absolute form, other target', kept({ absoluteForm: true }), { ...way, target: { host: 'x', port: 1 } }, true],
    ['absolute form, other route', kept({ absoluteForm: true }), { ...way, route: routeB }, false],
    ['absolute form, other session', kept({ absoluteForm: true }), { ...way, session: 's' }, false],
  ];
  for (const [name, connection, wanted, expected] of cases) assert.equal(carries(connection, wanted), expected, name);
});

test('IdleMember: hands out an open socket once; drops one that closed, talked or was replaced; the client closing destroys it', async () => {
  const memberSockets: Socket[] = [];
  const server = createServer((socket) => {
    socket.on('error', () => undefined);
    memberSockets.push(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const open = async (): Promise<MemberConnection> => {
    const socket = connect((server.address() as AddressInfo).port, '127.0.0.1');
    socket.on('error', () => undefined);
    await new Promise((resolve) => socket.once('connect', resolve));
    return kept({ socket });
  };
  const client = await open();
  const slot = new IdleMember(client.socket);
  const way: MemberWay = { route: routeA, session: null, target: { host: 'example.com', port: 80 } };
  try {
    const first = await open();
    slot.keep(first, client.socket, 60_000, first.socket.bytesRead);
    assert.equal(slot.take({ ...way, session: 'other' }), null, 'not for another session');
    assert.equal(slot.take(way), first, 'taken by a request it carries');
    assert.equal(slot.take(way), null, 'taken once');
    slot.keep(first, client.socket, 60_000, first.socket.bytesRead);
    first.socket.destroy();
    await new Promise((resolve) => first.socket.once('close', resolve));
    assert.equal(slot.take(way), null, 'a closed socket is not taken');
    const talking = await open();
    slot.keep(talking, client.socket, 60_000, talking.socket.bytesRead);
    talking.socket.emit('data', Buffer.from('unasked'));
    assert.equal(talking.socket.destroyed, true, 'bytes from an idle member destroy it');
    const late = await open();
    const readAtEnd = late.socket.bytesRead;
    await waitFor('its member side accepted', () => memberSockets.length === 4); // client, first, talking, late
    memberSockets[3]?.write('more after the answer');
    await new Promise((resolve) => late.socket.once('data', resolve)); // read before anything kept it
    slot.keep(late, client.socket, 60_000, readAtEnd);
    assert.equal(late.socket.destroyed, true, 'bytes read after the answer, before it was kept, destroy it');
    assert.equal(slot.take(way), null, 'and it is not kept');
    const older = await open();
    const newer = await open();
    slot.keep(older, client.socket, 60_000, older.socket.bytesRead);
    slot.keep(newer, client.socket, 60_000, newer.socket.bytesRead);
    assert.equal(older.socket.destroyed, true, 'a newer kept connection replaces the older');
    client.socket.destroy();
    await new Promise((resolve) => client.socket.once('close', resolve));
    assert.equal(newer.socket.destroyed, true, 'the client connection closing destroys the idle one');
  } finally {
    for (const socket of memberSockets) socket.destroy(); // a failed check leaves some open
    await new Promise((resolve) => server.close(resolve));
  }
});
