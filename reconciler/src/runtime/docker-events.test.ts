import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import Docker from 'dockerode';
import { createLogger } from '../logger.js';
import { tempDir } from '../testing/temp-dir.js';
import { waitFor } from '../wait-for.js';
import { parseEvent, watchDockerEvents } from './docker-events.js';
import type { RuntimeEvent } from './proxy-runtime.js';

/**
 * The events stream as an engine may send it, from a real HTTP server on a unix socket standing in for
 * the engine: lines split across chunks (even inside a character), lines that are not JSON events, a
 * stream that ends. None of it may throw; every real event is reported; an ended stream is reopened.
 */
const socketPath = path.join(tempDir('test-rn-events'), 'docker.sock');
const requests: URL[] = [];
let serve: (response: ServerResponse) => void = (response) => response.end();
let server: Server;

const event = (action: string, proxy: string): string =>
  JSON.stringify({
    Type: 'container',
    Action: action,
    Actor: { Attributes: { 'torfleet.proxy': proxy, name: 'ünï' } },
  });

describe('docker events stream', { concurrency: false, timeout: 30_000 }, () => {
  before(async () => {
    server = createServer((request: IncomingMessage, response: ServerResponse) => {
      requests.push(new URL(request.url ?? '/', 'http://engine'));
      response.writeHead(200, { 'Content-Type': 'application/json' });
      serve(response);
    });
    await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  test('malformed lines are skipped and logged; split lines are joined; an ended stream is reopened', async () => {
    const split = Buffer.from(`${event('die', 'p-1')}\n`);
    const cut = split.indexOf('ï') + 1; // inside the two bytes of ï
    let opened = 0;
    serve = (response) => {
      opened += 1;
      if (opened === 1) {
        response.write('this is not json\n');
        response.write('[1, 2]\n{"Action": \n');
        response.write(split.subarray(0, cut));
        setTimeout(() => {
          response.end(Buffer.concat([split.subarray(cut), Buffer.from(`null\n${event('kill', 'p-2')}\n`)]));
        }, 20);
      } else {
        response.write(`${event('destroy', 'p-3')}\n`); // kept open: the watch is stopped below
      }
    };
    const warnings: string[] = [];
    const log = createLogger((line) => {
      const parsed = JSON.parse(line) as { level: string; msg: string };
      if (parsed.level === 'warn') warnings.push(parsed.msg);
    }, 'debug');
    const events: RuntimeEvent[] = [];
    const stop = watchDockerEvents(new Docker({ socketPath }), 'test-rn', (e) => events.push(e), log);
    try {
      await waitFor('the event of the reopened stream', () => events.length >= 3, 10_000);
    } finally {
      stop();
    }
    assert.deepEqual(events, [
      { action: 'die', proxy: 'p-1' },
      { action: 'kill', proxy: 'p-2' },
      { action: 'destroy', proxy: 'p-3' },
    ]);
    assert.equal(warnings.filter((m) => m === 'ignoring a docker event that is not a JSON event object').length, 4);
    // Both openings ask only for this instance's containers, and for what happened since the watch began.
    assert.equal(requests.length, 2);
    for (const url of requests) {
      assert.ok(Number(url.searchParams.get('since')) > 0, url.href);
      assert.match(url.searchParams.get('filters') ?? '', /torfleet\.instance=test-rn/);
    }
  });

  const lines: [string, RuntimeEvent | undefined][] = [
    [event('oom', 'a-0'), { action: 'oom', proxy: 'a-0' }],
    ['{"Action": "stop"}', { action: 'stop', proxy: null }],
    ['{"Action": 7, "Actor": {"Attributes": {"torfleet.proxy": 1}}}', { action: 'event', proxy: null }],
    ['{}', { action: 'event', proxy: null }],
    ['not json', undefined],
    ['"a string"', undefined],
    ['[]', undefined],
    ['null', undefined],
  ];
  for (const [line, expected] of lines) {
    test(`parseEvent(${line.slice(0, 40)})`, () => {
      assert.deepEqual(parseEvent(line), expected);
    });
  }
});
