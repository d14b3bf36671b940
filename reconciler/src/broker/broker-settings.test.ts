import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { readSettings } from '../settings.js';

/** The broker's settings, read with every other setting: off by default, TLS beyond loopback, clear errors. */
describe('broker settings', () => {
  test('off without a tokens file', () => {
    assert.equal(readSettings({}).broker, null);
  });

  const DEFAULTS = {
    leaseTtlSeconds: 300,
    fallback: 'fail',
    rate: { perSecond: 50, burst: 100 },
    proxyHost: '127.0.0.1',
  };
  const ACCEPTED: ReadonlyArray<[Record<string, string>, unknown]> = [
    [
      { TORFLEET_BROKER_TOKENS_FILE: '/etc/torfleet/broker-tokens' },
      { listen: { host: '127.0.0.1', port: 8090 }, tokensFile: '/etc/torfleet/broker-tokens', tls: null, ...DEFAULTS },
    ],
    [
      { TORFLEET_BROKER_TOKENS_FILE: 't', TORFLEET_BROKER_LISTEN: '[::1]:9090' },
      { listen: { host: '::1', port: 9090 }, tokensFile: 't', tls: null, ...DEFAULTS },
    ],
    [
      {
        TORFLEET_BROKER_TOKENS_FILE: 't',
        TORFLEET_BROKER_LISTEN: '0.0.0.0:8090',
        TORFLEET_BROKER_TLS_CERT: 'c.pem',
        TORFLEET_BROKER_TLS_KEY: 'k.pem',
      },
      {
        listen: { host: '0.0.0.0', port: 8090 },
        tokensFile: 't',
        tls: { certFile: 'c.pem', keyFile: 'k.pem' },
        ...DEFAULTS,
      },
    ],
    [
      {
        TORFLEET_BROKER_TOKENS_FILE: 't',
        TORFLEET_BROKER_LEASE_TTL: '90s',
        TORFLEET_BROKER_FALLBACK: 'embedded',
        TORFLEET_BROKER_RATE: '5',
        TORFLEET_BROKER_PROXY_HOST: '10.0.0.5',
      },
      {
        listen: { host: '127.0.0.1', port: 8090 },
        tokensFile: 't',
        tls: null,
        leaseTtlSeconds: 90,
        fallback: 'embedded',
        rate: { perSecond: 5, burst: 10 },
        proxyHost: '10.0.0.5',
      },
    ],
  ];
  for (const [env, want] of ACCEPTED) {
    test(`accepted: ${JSON.stringify(env)}`, () => {
      assert.deepEqual(readSettings(env).broker, want);
    });
  }

  const REFUSED: ReadonlyArray<[Record<string, string>, RegExp]> = [
    [
      { TORFLEET_BROKER_TOKENS_FILE: 't', TORFLEET_BROKER_LISTEN: '0.0.0.0:8090' },
      /TORFLEET_BROKER_LISTEN is 0\.0\.0\.0:8090, beyond loopback: set TORFLEET_BROKER_TLS_CERT and TORFLEET_BROKER_TLS_KEY/,
    ],
    [
      { TORFLEET_BROKER_TOKENS_FILE: 't', TORFLEET_BROKER_TLS_CERT: 'c.pem' },
      /TORFLEET_BROKER_TLS_CERT is set but TORFLEET_BROKER_TLS_KEY is not: give both PEM files/,
    ],
    [{ TORFLEET_BROKER_TLS_KEY: 'k.pem' }, /TORFLEET_BROKER_TLS_KEY is set but TORFLEET_BROKER_TLS_CERT is not/],
    [
      { TORFLEET_BROKER_LISTEN: '127.0.0.1:8090' },
      /TORFLEET_BROKER_LISTEN is set but TORFLEET_BROKER_TOKENS_FILE is not/,
    ],
    [
      { TORFLEET_BROKER_TOKENS_FILE: 't', TORFLEET_BROKER_LISTEN: 'localhost:8090' },
      /TORFLEET_BROKER_LISTEN is "localhost:8090"/,
    ],
    [
      { TORFLEET_BROKER_TOKENS_FILE: 't', TORFLEET_BROKER_FALLBACK: 'direct' },
      /TORFLEET_BROKER_FALLBACK is "direct"; use direct_connection, embedded, fail/,
    ],
    [
      { TORFLEET_BROKER_TOKENS_FILE: 't', TORFLEET_BROKER_PROXY_HOST: 'proxies.lan' },
      /TORFLEET_BROKER_PROXY_HOST is "proxies.lan"; use the IP address/,
    ],
    [{ TORFLEET_BROKER_TOKENS_FILE: 't', TORFLEET_BROKER_RATE: '0' }, /must be at least 1/],
    [
      { TORFLEET_BROKER_TOKENS_FILE: 't', TORFLEET_BROKER_LEASE_TTL: '5 minutes' },
      /TORFLEET_BROKER_LEASE_TTL is "5 minutes"; use a duration/,
    ],
  ];
  for (const [env, message] of REFUSED) {
    test(`refused: ${JSON.stringify(env)}`, () => {
      assert.throws(() => readSettings(env), message);
    });
  }
});
