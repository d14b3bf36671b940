import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, test } from 'node:test';
import { run } from '../testing/gateway-clients.js';
import { startTestOrigin, testRouteTable } from '../testing/gateway-fixtures.js';
import { startTestGateway } from '../testing/gateway-harness.js';

/** IPv6 loopback: the gateway listening on [::1] (all three protocols), and targets that are IPv6 literals. */
const TOKEN = 'six-T0ken';
const origin = await startTestOrigin();
const origin6 = createServer((req, res) => res.end(`v6 ${req.url ?? ''}`));
await new Promise<void>((resolve) => origin6.listen(0, '::1', resolve));
const origin6Port = (origin6.address() as AddressInfo).port;
const gw = await startTestGateway(testRouteTable(['pool'], { token: TOKEN }), { host: '::1' });
const proxy = `pool:${TOKEN}@[::1]:${gw.port}`;

after(async () => {
  await gw.close();
  await origin.close();
  await new Promise((resolve) => origin6.close(resolve));
});

const cases: ReadonlyArray<{ name: string; args: readonly string[]; want: string }> = [
  { name: 'plain HTTP', args: ['-x', `http://${proxy}`], want: 'GET /plain 0' },
  { name: 'CONNECT', args: ['-p', '-x', `http://${proxy}`], want: 'GET /plain 0' },
  { name: 'SOCKS5', args: ['--socks5-hostname', `[::1]:${gw.port}`, '-U', `pool:${TOKEN}`], want: 'GET /plain 0' },
];
for (const { name, args, want } of cases) {
  test(`listening on [::1]: ${name} through the gateway`, async () => {
    const out = await run('curl', ['-sS', '--max-time', '10', ...args, `http://127.0.0.1:${origin.port}/plain`]);
    assert.equal(out.stdout, want, out.stderr);
  });
}

for (const { name, args } of cases) {
  test(`an IPv6 literal target ([::1]) over ${name}`, async () => {
    const out = await run('curl', ['-sS', '--max-time', '10', ...args, `http://[::1]:${origin6Port}/six`]);
    assert.equal(out.stdout, 'v6 /six', out.stderr);
  });
}
