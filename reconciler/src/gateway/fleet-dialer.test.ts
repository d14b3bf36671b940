import assert from 'node:assert/strict';
import { Cancel } from './cancel.js';
import { after, before, describe, test } from 'node:test';
import { Secret } from '../fleet/secret.js';
import { createLogger } from '../logger.js';
import { readUntil, startEchoTarget, TARGET_BANNER } from '../testing/echo-target.js';
import { startMicrosocks, type ProxyDaemon } from '../testing/proxy-daemons.js';
import { ScriptedPeer } from '../testing/scripted-peer.js';
import { DialError, type DialRequest, type MemberHealthView } from './dial-types.js';
import { createFleetDialer } from './fleet-dialer.js';
import type { Member, Route, TorMember, UpstreamMember } from './route-types.js';

const tor = (id: string, port: number): TorMember => ({ kind: 'tor', id, pool: 'us', host: '127.0.0.1', port });
const everyoneUsable: MemberHealthView = { usable: () => true };

function setup(health: MemberHealthView = everyoneUsable, maxAttempts = 3) {
  const clock = { now: 5_000_000 };
  const lines: string[] = [];
  const log = createLogger((line) => lines.push(line), 'debug');
  const dialer = createFleetDialer({
    health,
    now: () => clock.now,
    random: () => 0,
    connectTimeoutMs: 2_000,
    maxAttempts,
    log,
  });
  return { dialer, clock, lines };
}

function dialRequest(
  route: Route,
  target: { host: string; port: number },
  extra: Partial<DialRequest> = {},
): DialRequest {
  return {
    route,
    session: null,
    target,
    purpose: 'tunnel',
    corporate: null,
    cancel: new Cancel(),
    ...extra,
  };
}

async function dialError(promise: Promise<unknown>): Promise<DialError> {
  const error = await promise.then(
    () => assert.fail('the dial succeeded'),
    (thrown: unknown) => thrown,
  );
  assert.ok(error instanceof DialError, String(error));
  return error;
}

describe('createFleetDialer with real SOCKS5 members (microsocks) and broken ones', () => {
  let echo: ScriptedPeer;
  let good: ProxyDaemon[];
  let refusing: ScriptedPeer;
  let closedPort: number;
  before(async () => {
    echo = await startEchoTarget();
    good = await Promise.all([startMicrosocks(), startMicrosocks()]);
    refusing = await ScriptedPeer.start((socket) => socket.destroy());
    const closed = await ScriptedPeer.start(() => undefined);
    closedPort = closed.port;
    await closed.close();
  });
  after(async () => {
    await Promise.all([...good.map((daemon) => daemon.stop()), echo.close(), refusing.close()]);
  });
  const target = (): { host: string; port: number } => ({ host: '127.0.0.1', port: echo.port });
  const goodMembers = (): TorMember[] => good.map((daemon, index) => tor(`us-${index + 1}`, daemon.port));

  test('the first member refuses (closed port): the dial succeeds on the next, with connectMs', async () => {
    const { dialer, lines } = setup();
    const route: Route = { name: 'us', kind: 'pool', members: [tor('us-0', closedPort), ...goodMembers()] };
    const result = await dialer.dial(dialRequest(route, target()));
    try {
      assert.equal(result.member.id, 'us-1');
      assert.equal(result.connectMs, 0, 'the fake clock did not move');
      assert.equal(result.absoluteForm, false);
      assert.ok((await readUntil(result.socket, TARGET_BANNER)).includes(TARGET_BANNER));
    } finally {
      result.socket.destroy();
    }
    assert.match(lines.join(''), /dial through us-0 failed: tor proxy us-0 at 127\.0\.0\.1:\d+: nothing listens there/);
  });

  test('repeated failures eject a member with a growing cool-down; it is tried again after it', async () => {
    const { dialer, clock, lines } = setup();
    const broken = tor('us-0', refusing.port);
    const route: Route = { name: 'us', kind: 'pool', members: [broken, ...goodMembers()] };
    const triesAfter = async (requests: number): Promise<number> => {
      const before = refusing.accepted;
      for (let i = 0; i < requests; i++) (await dialer.dial(dialRequest(route, target()))).socket.destroy();
      return refusing.accepted - before;
    };
    assert.equal(await triesAfter(9), 3, 'tried first on every third request (round robin), failing each time');
    assert.match(lines.join(''), /member us-0 ejected for 1000 ms/);
    assert.equal(await triesAfter(9), 0, 'ejected: skipped');
    clock.now += 1_000;
    assert.equal(await triesAfter(3), 1, 'cool-down over: tried again, fails, ejected again');
    assert.match(lines.join(''), /member us-0 ejected for 2000 ms/);
    clock.now += 1_999;
    assert.equal(await triesAfter(6), 0, 'the second cool-down is twice as long');
    clock.now += 1;
    assert.equal(await triesAfter(3), 1);
    assert.match(lines.join(''), /member us-0 ejected for 4000 ms/);
  });

  test('the proxy could not reach the target: other members are tried, none is ejected', async () => {
    const { dialer, lines } = setup();
    const route: Route = { name: 'us', kind: 'pool', members: goodMembers() };
    for (let i = 0; i < 5; i++) {
      const error = await dialError(dialer.dial(dialRequest(route, { host: '127.0.0.1', port: closedPort })));
      assert.equal(error.reason, 'target-unreachable');
      assert.match(error.message, /route us: 2 members tried: .*0x05.*; .*0x05/);
    }
    assert.doesNotMatch(lines.join(''), /ejected/);
  });

  test('a sticky session keeps its member across requests (round robin moves on for others)', async () => {
    const { dialer } = setup();
    const route: Route = { name: 'us', kind: 'pool', members: goodMembers() };
    const carried: string[] = [];
    for (let i = 0; i < 6; i++) {
      const result = await dialer.dial(dialRequest(route, target(), { session: 'abc' }));
      result.socket.destroy();
      carried.push(result.member.id);
      (await dialer.dial(dialRequest(route, target()))).socket.destroy();
    }
    assert.deepEqual(new Set(carried).size, 1, carried.join());
  });

  test('at most maxAttempts members are tried; all refusing → refused, each failure in the message', async () => {
    const { dialer } = setup(everyoneUsable, 3);
    const members = [0, 1, 2, 3].map((index) => tor(`us-${index}`, refusing.port));
    const before = refusing.accepted;
    const error = await dialError(dialer.dial(dialRequest({ name: 'us', kind: 'pool', members }, target())));
    assert.equal(refusing.accepted - before, 3);
    assert.equal(error.reason, 'refused');
    assert.match(error.message, /^route us: 3 members tried: tor proxy us-0 .*; tor proxy us-1 .*; tor proxy us-2 /);
  });

  test('no usable member (not running, or an empty route): no-member, saying why', async () => {
    const { dialer } = setup({ usable: (member: Member) => member.id !== 'us-1' });
    const route: Route = { name: 'us', kind: 'pool', members: [tor('us-1', closedPort)] };
    const error = await dialError(dialer.dial(dialRequest(route, target())));
    assert.equal(error.reason, 'no-member');
    assert.match(
      error.message,
      /route us has no member to carry this connection \(1 members, 1 not usable, 0 ejected\)/,
    );
    const empty = await dialError(dialer.dial(dialRequest({ name: 'geo-zz', kind: 'geo', members: [] }, target())));
    assert.equal(empty.reason, 'no-member');
  });

  test('the request aborted: aborted, no other member tried', async () => {
    const { dialer } = setup();
    const cancel = new Cancel();
    const silent = await ScriptedPeer.start(() => {
      cancel.cancel();
    });
    try {
      const route: Route = { name: 'us', kind: 'pool', members: [tor('us-0', silent.port), ...goodMembers()] };
      const error = await dialError(dialer.dial(dialRequest(route, target(), { cancel })));
      assert.equal(error.reason, 'aborted');
    } finally {
      await silent.close();
    }
  });
});

describe('createFleetDialer never shows a credential', () => {
  const upstreamAuth = new Secret('up-user:up-pass-9f3k');
  const corporateAuth = new Secret('corp-user:corp-pass-x7q2');
  const secrets = [
    'up-pass-9f3k',
    'corp-pass-x7q2',
    'up-user',
    'corp-user',
    Buffer.from('up-user:up-pass-9f3k').toString('base64'),
  ];

  test('a refused login (upstream-auth) ends the dial at once; a proxy echoing our credentials is redacted', async () => {
    // A hostile corporate proxy that lets the first CONNECT through, then answers the upstream's CONNECT with its
    // credentials (and ours) echoed in the status line.
    const proxy = await ScriptedPeer.start((socket) => {
      let text = '';
      socket.on('data', (chunk: Buffer) => {
        text += chunk.toString('latin1');
        const heads = text.split('\r\n\r\n').length - 1;
        if (heads === 1 && !text.includes('answered')) {
          text += 'answered';
          socket.write('HTTP/1.1 200 OK\r\n\r\n');
        } else if (heads === 2) {
          const auth = /Proxy-Authorization: (.*)\r\n/g;
          socket.end(
            `HTTP/1.1 407 ${[...text.matchAll(auth)].map((match) => match[1]).join(' ')} up-user:up-pass-9f3k\r\n\r\n`,
          );
        }
      });
    });
    try {
      const { dialer, lines } = setup();
      const member: UpstreamMember = {
        kind: 'upstream',
        id: 'provider',
        protocol: 'http',
        host: '127.0.0.1',
        port: 1,
        auth: upstreamAuth,
      };
      const second: UpstreamMember = { ...member, id: 'spare' };
      const route: Route = { name: 'provider', kind: 'upstream', members: [member, second] };
      const corporate = { host: '127.0.0.1', port: proxy.port, auth: corporateAuth };
      const error = await dialError(dialer.dial(dialRequest(route, { host: '127.0.0.1', port: 80 }, { corporate })));
      assert.equal(error.reason, 'upstream-auth');
      assert.equal(proxy.accepted, 1, 'no second member tried after a refused login');
      assert.match(error.message, /407 Basic \[redacted\] Basic \[redacted\]/);
      const shown = `${error.message}\n${lines.join('')}`;
      for (const secret of secrets) assert.ok(!shown.includes(secret), `${secret} shown in ${shown}`);
    } finally {
      await proxy.close();
    }
  });
});
