import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseStatCpuTicks, parseVmRssKb } from './proc-tree.js';
import { httpResponseLength, httpStatus } from './read-bytes.js';
import { socks5ConnectRequest, socks5ReplyLength } from './socks5-dial.js';
import { median, percentile } from './stats.js';
import { parseWrkSummary, wrkScript } from './wrk-run.js';

test('percentile is nearest-rank; median skips the runs that produced nothing', () => {
  const cases: [number[], number, number][] = [
    [[5, 1, 3], 50, 3],
    [[1, 2, 3, 4], 50, 2],
    [[...Array(100).keys()].map((i) => i + 1), 99, 99],
    [[7], 99, 7],
    [[1, 9], 100, 9],
  ];
  for (const [values, p, want] of cases) assert.equal(percentile(values, p), want, `p${p} of ${values.join(',')}`);
  assert.ok(Number.isNaN(percentile([], 50)));
  assert.equal(median([NaN, 4, 2, NaN, 8]), 4);
  assert.ok(Number.isNaN(median([NaN])));
});

test('/proc stat: utime + stime even when the command name holds spaces and parens', () => {
  const rest = 'S 1 2 3 4 5 6 7 8 9 10 1234 56 0 0 20 0 3 0 99 1000 200';
  assert.equal(parseStatCpuTicks(`42 (privoxy) ${rest}`), 1290);
  assert.equal(parseStatCpuTicks(`42 (a (b) c) ${rest}`), 1290);
  assert.throws(() => parseStatCpuTicks('42 (short) S 1'), /no utime\/stime/);
  assert.equal(parseVmRssKb('Name:\tnode\nVmRSS:\t   48212 kB\nThreads: 7\n'), 48212);
  assert.equal(parseVmRssKb('Name:\tzombie\nState:\tZ\n'), 0);
});

test('HTTP response length: head only, head + Content-Length body, incomplete, no length', () => {
  const head = 'HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\n';
  assert.equal(httpResponseLength(Buffer.from(head + 'abcdEXTRA'), false), head.length + 4);
  assert.equal(httpResponseLength(Buffer.from(head + 'ab'), false), null);
  assert.equal(httpResponseLength(Buffer.from('HTTP/1.1 200 OK\r\nContent-Le'), false), null);
  assert.equal(httpResponseLength(Buffer.from('HTTP/1.1 200 Connection established\r\n\r\n'), true), 39);
  assert.throws(() => httpResponseLength(Buffer.from('HTTP/1.1 200 OK\r\n\r\nbody'), false), /without Content-Length/);
  assert.equal(httpStatus(Buffer.from('HTTP/1.0 502 Bad Gateway\r\n')), 502);
  assert.ok(Number.isNaN(httpStatus(Buffer.from('SSH-2.0-OpenSSH'))));
});

test('SOCKS5: IPv4 targets as ATYP 1, names as ATYP 3 (resolved by the server); reply lengths by ATYP', () => {
  assert.deepEqual([...socks5ConnectRequest('127.0.0.1', 8080)], [5, 1, 0, 1, 127, 0, 0, 1, 0x1f, 0x90]);
  assert.deepEqual([...socks5ConnectRequest('ab', 80)], [5, 1, 0, 3, 2, 0x61, 0x62, 0, 80]);
  assert.throws(() => socks5ConnectRequest('x'.repeat(256), 80), /longer than 255/);
  const cases: [number[], number | null][] = [
    [[5, 0, 0, 1, 127, 0, 0, 1, 0, 80], 10],
    [[5, 0, 0, 1, 127, 0], null],
    [[5, 0, 0, 3, 2, 0x61, 0x62, 0, 80], 9],
    [[5, 0, 0, 4, ...Array<number>(16).fill(0), 0, 80], 22],
    [[5, 0], null],
  ];
  for (const [bytes, want] of cases) assert.equal(socks5ReplyLength(Buffer.from(bytes)), want, bytes.join(','));
  assert.throws(() => socks5ReplyLength(Buffer.from([5, 0, 0, 9, 0])), /unknown address type 9/);
});

test('wrk: the Lua script asks for absolute URIs; the summary line is read, a missing one is an error', () => {
  const script = wrkScript(8081, '1k', true);
  assert.match(script, /wrk\.path = "http:\/\/127\.0\.0\.1:8081\/1k"/);
  assert.match(script, /wrk\.headers\["Connection"\] = "close"/);
  assert.doesNotMatch(wrkScript(8081, '1m', false), /Connection/);
  const line =
    'WRKJSON {"requests":3000,"durationUs":2000000,"connect":0,"read":5,"write":1,"status":2,"timeout":3,"p50Us":1500,"p99Us":9000}';
  const summary = parseWrkSummary(`Running 2s test\n${line}\n`);
  assert.deepEqual(summary, { requests: 3000, perSecond: 1500, p50Ms: 1.5, p99Ms: 9, badStatus: 2, socketErrors: 9 });
  assert.throws(() => parseWrkSummary('unable to connect to 127.0.0.1:1 Connection refused'), /no WRKJSON line/);
});
