import assert from 'node:assert/strict';
import { Cancel } from './cancel.js';
import dns from 'node:dns';
import { createServer, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { Secret } from '../fleet/secret.js';
import { readUntil, startEchoTarget, TARGET_BANNER } from '../testing/echo-target.js';
import { startMicrosocks, startTinyproxy, type ProxyDaemon } from '../testing/proxy-daemons.js';
import { startRecordingRelay, type RecordingRelay } from '../testing/recording-relay.js';
import { ScriptedPeer } from '../testing/scripted-peer.js';
import { tempDir } from '../testing/temp-dir.js';
import { buildHopChain, type HopRequest } from './hop-chain.js';
import { HopError } from './hop-error.js';
import type { CorporateHop, Member, Target } from './route-types.js';
import { startDnsSpy, type DnsSpy } from '../testing/dns-spy.js';

const CORP = { user: 'corp-user', password: 'corp-pass-A1' };
const UP = { user: 'up-user', password: 'up-pass-B2' };
const SOCKS = { user: 'socks-user', password: 'socks-pass-C3' };
const basic = (login: { user: string; password: string }): string =>
  Buffer.from(`${login.user}:${login.password}`).toString('base64');
const secret = (login: { user: string; password: string }): Secret => new Secret(`${login.user}:${login.password}`);

function request(target: Target, corporate: CorporateHop | null, extra: Partial<HopRequest> = {}): HopRequest {
  const route = { name: 'r', kind: 'upstream' as const, members: [] };
  return { route, session: null, target, purpose: 'tunnel', corporate, cancel: new Cancel(), ...extra };
}

async function tunnelText(socket: Socket): Promise<string> {
  try {
    await readUntil(socket, TARGET_BANNER);
    socket.write('ping\n');
    return await readUntil(socket, 'ping\n');
  } finally {
    socket.destroy();
  }
}

describe('buildHopChain through real proxies', () => {
  let dnsSpy: DnsSpy;
  let echo: ScriptedPeer;
  let web: Server;
  let webPort: number;
  let corporate: ProxyDaemon;
  let upstream: ProxyDaemon;
  let socks: ProxyDaemon;
  let openSocks: ProxyDaemon;
  let toCorporate: RecordingRelay;
  let toUpstream: RecordingRelay;
  before(async () => {
    dnsSpy = startDnsSpy();
    const dir = tempDir('gw-hops');
    echo = await startEchoTarget();
    web = createServer((req, res) => res.end(JSON.stringify({ url: req.url, headers: req.headers })));
    await new Promise<void>((resolve) => web.listen(0, '127.0.0.1', resolve));
    webPort = (web.address() as { port: number }).port;
    [corporate, upstream, socks, openSocks] = await Promise.all([
      startTinyproxy(dir, 'corporate', CORP),
      startTinyproxy(dir, 'upstream', UP),
      startMicrosocks(SOCKS),
      startMicrosocks(),
    ]);
    toCorporate = await startRecordingRelay(corporate.port);
    toUpstream = await startRecordingRelay(upstream.port);
  });
  after(async () => {
    dnsSpy.stop();
    await Promise.all([corporate.stop(), upstream.stop(), socks.stop(), openSocks.stop()]);
    await Promise.all([echo.close(), toCorporate.peer.close(), toUpstream.peer.close()]);
    await new Promise((resolve) => web.close(resolve));
  });

  const corpHop = (): CorporateHop => ({ host: '127.0.0.1', port: toCorporate.peer.port, auth: secret(CORP) });
  const httpUpstream = (port: number): Member => ({
    kind: 'upstream',
    id: 'provider',
    protocol: 'http',
    host: '127.0.0.1',
    port,
    auth: secret(UP),
  });

  test('double CONNECT: corporate (tinyproxy A) then upstream (tinyproxy B), each sees only its own credentials', async () => {
    const target = { host: '127.0.0.1', port: echo.port };
    const chain = await buildHopChain(httpUpstream(toUpstream.peer.port), request(target, corpHop()), 5_000);
    assert.match(await tunnelText(chain.socket), /ping/);
    const corporateSaw = toCorporate.sent.at(-1) ?? '';
    const corporateHead = corporateSaw.slice(0, corporateSaw.indexOf('\r\n\r\n') + 4);
    assert.equal(
      corporateHead,
      `CONNECT 127.0.0.1:${toUpstream.peer.port} HTTP/1.1\r\nHost: 127.0.0.1:${toUpstream.peer.port}\r\n` +
        `Proxy-Authorization: Basic ${basic(CORP)}\r\n\r\n`,
    );
    const upstreamSaw = toUpstream.sent.at(-1) ?? '';
    assert.ok(upstreamSaw.startsWith(`CONNECT 127.0.0.1:${echo.port} HTTP/1.1\r\n`), upstreamSaw);
    assert.ok(upstreamSaw.includes(`Proxy-Authorization: Basic ${basic(UP)}\r\n`));
    for (const leak of [basic(CORP), CORP.user, CORP.password])
      assert.ok(!upstreamSaw.includes(leak), `upstream saw ${leak}`);
  });

  test('http-forward: a bare connection to the upstream (through the corporate), absolute form with its auth', async () => {
    for (const corp of [corpHop(), null]) {
      const chain = await buildHopChain(
        httpUpstream(upstream.port),
        request({ host: '127.0.0.1', port: webPort }, corp, { purpose: 'http-forward' }),
        5_000,
      );
      assert.deepEqual([chain.absoluteForm, chain.proxyAuthorization], [true, `Basic ${basic(UP)}`]);
      chain.socket.write(
        `GET http://127.0.0.1:${webPort}/page?q=1 HTTP/1.1\r\nHost: 127.0.0.1:${webPort}\r\n` +
          `Proxy-Authorization: ${chain.proxyAuthorization}\r\nConnection: close\r\n\r\n`,
      );
      const answer = await readUntil(chain.socket, '}');
      chain.socket.destroy();
      assert.match(answer, /^HTTP\/1\.[01] 200/);
      assert.match(answer, /"url":"\/page\?q=1"/);
      assert.doesNotMatch(answer, /proxy-authorization/i, 'the upstream does not pass our credentials on');
    }
  });

  test('a SOCKS5 upstream inside a corporate CONNECT (tinyproxy then microsocks with user/password)', async () => {
    const member: Member = {
      kind: 'upstream',
      id: 'socksy',
      protocol: 'socks5',
      host: '127.0.0.1',
      port: socks.port,
      auth: secret(SOCKS),
    };
    const chain = await buildHopChain(member, request({ host: '127.0.0.1', port: echo.port }, corpHop()), 5_000);
    assert.match(await tunnelText(chain.socket), /ping/);
    assert.ok(toCorporate.sent.at(-1)?.startsWith(`CONNECT 127.0.0.1:${socks.port} HTTP/1.1\r\n`));
  });

  test('a tor member: SOCKS5 straight to its port, never through the corporate proxy', async () => {
    const before = toCorporate.sent.length;
    const member: Member = { kind: 'tor', id: 'us-0', pool: 'us', host: '127.0.0.1', port: openSocks.port };
    const chain = await buildHopChain(member, request({ host: '127.0.0.1', port: echo.port }, corpHop()), 5_000);
    assert.match(await tunnelText(chain.socket), /ping/);
    const forward = await buildHopChain(
      member,
      request({ host: '127.0.0.1', port: echo.port }, corpHop(), { purpose: 'http-forward' }),
      5_000,
    );
    assert.equal(
      forward.absoluteForm,
      false,
      'plain HTTP over a SOCKS member is a tunnel to the target (no local DNS)',
    );
    assert.match(await tunnelText(forward.socket), /ping/);
    assert.equal(toCorporate.sent.length, before);
  });

  test('the corporate proxy cannot reach the upstream: the member failed (refused, counts); a wrong corporate login: upstream-auth', async () => {
    const gone = await ScriptedPeer.start(() => undefined);
    const port = gone.port;
    await gone.close();
    const target = { host: '127.0.0.1', port: echo.port };
    const unreachable = await buildHopChain(httpUpstream(port), request(target, corpHop()), 5_000).catch(
      (error: unknown) => error,
    );
    assert.ok(unreachable instanceof HopError);
    assert.deepEqual([unreachable.reason, unreachable.proxyAnswered], ['refused', false]);
    assert.match(
      unreachable.message,
      /^upstream provider unreachable through the corporate proxy: corporate proxy at 127\.0\.0\.1:\d+: the HTTP proxy answered CONNECT 127\.0\.0\.1:\d+ with 500/,
    );
    const wrongLogin = { ...corpHop(), auth: new Secret('corp-user:wrong') };
    const refused = await buildHopChain(httpUpstream(upstream.port), request(target, wrongLogin), 5_000).catch(
      (error: unknown) => error,
    );
    assert.ok(refused instanceof HopError);
    assert.equal(refused.reason, 'upstream-auth');
    assert.match(refused.message, /^corporate proxy at /);
  });

  test('a target named `localhost` goes to the proxy unresolved (SOCKS5 and CONNECT): no DNS lookup here', async () => {
    const target = { host: 'localhost', port: echo.port };
    const start = dnsSpy.nameCalls().length;
    const viaSocks: Member = { kind: 'tor', id: 'us-0', pool: 'us', host: '127.0.0.1', port: openSocks.port };
    assert.match(await tunnelText((await buildHopChain(viaSocks, request(target, null), 5_000)).socket), /ping/);
    const viaHttp = httpUpstream(upstream.port);
    assert.match(await tunnelText((await buildHopChain(viaHttp, request(target, corpHop()), 5_000)).socket), /ping/);
    assert.ok(toCorporate.sent.at(-1)?.includes('\r\n\r\nCONNECT localhost:'), 'the name went into the tunnel as is');
    assert.deepEqual(dnsSpy.nameCalls().slice(start), []);
    await new Promise((resolve) => {
      dns.lookup('localhost', resolve);
    });
    assert.equal(dnsSpy.nameCalls().length - start, 1, 'the spy sees a lookup when one happens');
  });
});
