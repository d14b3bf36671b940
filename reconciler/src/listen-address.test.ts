import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { readSettings } from './settings.js';

describe('TORFLEET_LISTEN: a real IP:PORT, and a token beyond loopback (one isLoopbackAddress)', () => {
  const CASES: readonly [string, string | undefined, { host: string; port: number } | RegExp][] = [
    ['127.0.0.1:8080', undefined, { host: '127.0.0.1', port: 8080 }],
    ['127.0.0.2:8080', undefined, { host: '127.0.0.2', port: 8080 }],
    ['[::1]:8080', undefined, { host: '::1', port: 8080 }],
    ['[0:0:0:0:0:0:0:1]:8080', undefined, { host: '0:0:0:0:0:0:0:1', port: 8080 }],
    ['[::ffff:127.0.0.1]:8080', undefined, { host: '::ffff:127.0.0.1', port: 8080 }],
    ['0.0.0.0:8080', undefined, /TORFLEET_LISTEN is 0\.0\.0\.0:8080, beyond loopback: set TORFLEET_API_TOKEN/],
    ['0.0.0.0:8080', 's3cret', { host: '0.0.0.0', port: 8080 }],
    ['[::]:8080', undefined, /TORFLEET_LISTEN is \[::\]:8080, beyond loopback/],
    ['[::ffff:10.0.0.1]:8080', undefined, /beyond loopback/],
    ['127.1:8080', undefined, /TORFLEET_LISTEN is "127\.1:8080"; use IP:PORT such as 127\.0\.0\.1:8080/],
    ['localhost:8080', undefined, /use IP:PORT/],
    ['127.0.0.1:0', undefined, /use IP:PORT/],
    ['127.0.0.1:65536', undefined, /use IP:PORT/],
    ['[127.0.0.1]:8080', undefined, /use IP:PORT/],
  ];
  for (const [listen, token, expected] of CASES) {
    test(`${listen}${token === undefined ? '' : ' with a token'}`, () => {
      const env = { TORFLEET_LISTEN: listen, TORFLEET_API_TOKEN: token };
      if (expected instanceof RegExp) assert.throws(() => readSettings(env), expected);
      else assert.deepEqual(readSettings(env).listen, expected);
    });
  }
});
