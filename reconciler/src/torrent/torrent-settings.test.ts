import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { readSettings } from '../settings.js';
import { tempDir } from '../testing/temp-dir.js';
import { DEFAULT_MIME_ALLOWLIST, mimeAllowed } from './torrent-settings.js';

const SECRET = 'a-torrent-secret-of-32-characters';

describe('content job settings', () => {
  test('off without a secret', () => {
    assert.equal(readSettings({}).torrent, null);
  });

  test('the defaults', () => {
    assert.deepEqual(readSettings({ TORFLEET_TORRENT_SECRET: SECRET }).torrent, {
      listen: { host: '127.0.0.1', port: 8091 },
      publicHost: '127.0.0.1',
      secret: Buffer.from(SECRET),
      tokensFile: null,
      workers: 2,
      retries: 2,
      maxBytes: 512 * 1024 ** 2,
      mimeAllowlist: DEFAULT_MIME_ALLOWLIST,
      connectTimeoutMs: 30_000,
      readTimeoutMs: 60_000,
      peerPort: 6881,
      uploadBytesPerSecond: 0,
      maxPeers: 50,
      rate: { perSecond: 20, burst: 40 },
      maxUnfinished: 1000,
    });
  });

  test('every setting, and the secret from a file (trimmed)', () => {
    const file = path.join(tempDir('torrent-settings'), 'secret');
    writeFileSync(file, `${SECRET}\n`);
    const settings = readSettings({
      TORFLEET_TORRENT_SECRET_FILE: file,
      TORFLEET_TORRENT_LISTEN: '[::1]:9091',
      TORFLEET_TORRENT_TOKENS_FILE: '/etc/torfleet/torrent-tokens',
      TORFLEET_TORRENT_WORKERS: '4',
      TORFLEET_TORRENT_RETRIES: '0',
      TORFLEET_TORRENT_MAX_SIZE: '10MiB',
      TORFLEET_TORRENT_MIME: 'application/pdf, Text/*',
      TORFLEET_TORRENT_CONNECT_TIMEOUT: '5s',
      TORFLEET_TORRENT_READ_TIMEOUT: '2m',
      TORFLEET_TORRENT_PEER_PORT: '51413',
      TORFLEET_TORRENT_UPLOAD_RATE: '512KiB',
      TORFLEET_TORRENT_PEERS: '8',
      TORFLEET_TORRENT_RATE: '100',
      TORFLEET_TORRENT_MAX_QUEUED: '50',
    }).torrent;
    assert.deepEqual(settings, {
      listen: { host: '::1', port: 9091 },
      publicHost: '::1',
      secret: Buffer.from(SECRET),
      tokensFile: '/etc/torfleet/torrent-tokens',
      workers: 4,
      retries: 0,
      maxBytes: 10 * 1024 ** 2,
      mimeAllowlist: ['application/pdf', 'text/*'],
      connectTimeoutMs: 5_000,
      readTimeoutMs: 120_000,
      peerPort: 51413,
      uploadBytesPerSecond: 512 * 1024,
      maxPeers: 8,
      rate: { perSecond: 100, burst: 200 },
      maxUnfinished: 50,
    });
  });

  test('a count setting takes its maximum, even when it has more digits than most (1000000)', () => {
    assert.equal(
      readSettings({ TORFLEET_TORRENT_SECRET: SECRET, TORFLEET_TORRENT_MAX_QUEUED: '1000000' }).torrent?.maxUnfinished,
      1_000_000,
    );
  });

  const REFUSED: ReadonlyArray<[Record<string, string>, RegExp]> = [
    [
      { TORFLEET_TORRENT_LISTEN: '127.0.0.1:8091' },
      /TORFLEET_TORRENT_LISTEN is set but TORFLEET_TORRENT_SECRET is not/,
    ],
    [
      { TORFLEET_TORRENT_SECRET: 'short' },
      /shorter than 16 bytes: use a long random one, such as: openssl rand -hex 32/,
    ],
    [{ TORFLEET_TORRENT_SECRET: SECRET, TORFLEET_TORRENT_SECRET_FILE: '/x' }, /both set: give the secret one way/],
    [
      { TORFLEET_TORRENT_SECRET_FILE: '/nonexistent/secret' },
      /TORFLEET_TORRENT_SECRET_FILE: cannot read \/nonexistent\/secret/,
    ],
    [
      { TORFLEET_TORRENT_SECRET: SECRET, TORFLEET_TORRENT_MAX_SIZE: '10MB' },
      /TORFLEET_TORRENT_MAX_SIZE is "10MB"; use a size such as/,
    ],
    [{ TORFLEET_TORRENT_SECRET: SECRET, TORFLEET_TORRENT_MIME: 'pdf' }, /TORFLEET_TORRENT_MIME holds "pdf"/],
    [
      { TORFLEET_TORRENT_SECRET: SECRET, TORFLEET_TORRENT_WORKERS: '0' },
      /TORFLEET_TORRENT_WORKERS is 0; use at least 1/,
    ],
    [{ TORFLEET_TORRENT_SECRET: SECRET, TORFLEET_TORRENT_PEER_PORT: '70000' }, /TORFLEET_TORRENT_PEER_PORT is "70000"/],
    [
      { TORFLEET_TORRENT_SECRET: SECRET, TORFLEET_TORRENT_MAX_QUEUED: '1000001' },
      /TORFLEET_TORRENT_MAX_QUEUED is "1000001"; use a whole number from 0 to 1000000/,
    ],
    [
      { TORFLEET_TORRENT_SECRET: SECRET, TORFLEET_TORRENT_LISTEN: '0.0.0.0:8091' },
      /the wildcard 0\.0\.0\.0: set TORFLEET_TORRENT_PUBLIC_HOST/,
    ],
    [
      { TORFLEET_TORRENT_SECRET: SECRET, TORFLEET_TORRENT_PUBLIC_HOST: 'seed.example' },
      /TORFLEET_TORRENT_PUBLIC_HOST is "seed.example": give the IP address/,
    ],
  ];
  for (const [env, message] of REFUSED) {
    test(`refused: ${JSON.stringify(Object.keys(env))} ${message.source.slice(0, 40)}`, () => {
      assert.throws(() => readSettings(env), message);
      try {
        readSettings(env);
      } catch (error) {
        assert.ok(!String(error).includes(SECRET), 'no error holds the secret');
      }
    });
  }
});

describe('the MIME allowlist', () => {
  const CASES: ReadonlyArray<[string | undefined, boolean]> = [
    ['application/pdf', true],
    ['application/PDF; charset=binary', true],
    ['text/html; charset=utf-8', true],
    ['image/png', true],
    [undefined, true], // no Content-Type: application/octet-stream (RFC 9110 8.3)
    ['video/mp4', false],
    ['application/x-msdownload', false],
    ['text/*', false],
    ['', false],
    ['nonsense', false],
  ];
  for (const [type, want] of CASES) {
    test(`${String(type)}: ${String(want)}`, () => {
      assert.equal(mimeAllowed(type, DEFAULT_MIME_ALLOWLIST), want);
    });
  }
});
