import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { TorfleetError } from '../errors.js';
import { Http10Server } from '../testing/http10-server.js';
import { sharedConsensusFile, sharedGeoIpFile } from '../testing/shared-data.js';
import { tempDir } from '../testing/temp-dir.js';
import { CONSENSUS_MAX_BYTES, createConsensusSource } from './consensus-source.js';
import { createOnionooSource, ONIONOO_MAX_BYTES } from './onionoo-source.js';

// This file's port block: 29040-29059.
const PORT = 29040;
const NO_RETRY = { attempts: 1, baseDelayMs: 0, maxDelayMs: 0, maxRetryAfterMs: 0 };
const CHECKPOINT = { lastModified: null, relaysPublished: null };

/** A valid-looking details document of `size` bytes (an unknown member of empty objects), gzipped: ~1000:1. */
function detailsBomb(size: number): Buffer {
  const head = '{"relays_published": "2022-11-19 10:00:00", "relays": [], "x": [';
  const count = Math.ceil((size - head.length) / 3);
  return gzipSync(Buffer.concat([Buffer.from(head), Buffer.alloc(count * 3 - 1, '{},'), Buffer.from('}]}')]));
}

describe('node sources read no more than a real document needs', () => {
  const server = new Http10Server((path) => ({
    headers: {
      'Content-Type': path.startsWith('/tor/') ? 'text/plain' : 'application/json',
      'Content-Encoding': 'gzip',
    },
    body: path.startsWith('/tor/')
      ? gzipSync(Buffer.alloc(CONSENSUS_MAX_BYTES + 1024, 'r x 0.0.0.0\n'))
      : detailsBomb(ONIONOO_MAX_BYTES + 1024),
    contentLength: false,
  }));
  let url = '';
  before(async () => {
    url = await server.start(PORT);
  });
  after(async () => {
    await server.stop();
  });

  test('an Onionoo answer that inflates past the cap is refused', async () => {
    const error = await createOnionooSource(url, { retry: NO_RETRY })
      .fetch(CHECKPOINT)
      .catch((e: unknown) => e);
    assert.ok(error instanceof TorfleetError);
    assert.equal(error.code, 'NODE_SOURCE_INVALID');
    assert.match(
      error.message,
      new RegExp(`onionoo details at .*larger than ${ONIONOO_MAX_BYTES} bytes once decompressed`),
    );
  });

  test('a consensus that inflates past the cap is refused', async () => {
    const source = createConsensusSource(`${url}/tor/status-vote/current/consensus`, sharedGeoIpFile, {
      retry: NO_RETRY,
    });
    const error = await source.fetch(CHECKPOINT).catch((e: unknown) => e);
    assert.ok(error instanceof TorfleetError);
    assert.match(
      error.message,
      new RegExp(`consensus at .*larger than ${CONSENSUS_MAX_BYTES} bytes once decompressed`),
    );
  });
});

describe('consensus and GeoIP files that are not plain files are refused unread', () => {
  const fifo = path.join(tempDir('source-files'), 'consensus.fifo');
  execFileSync('mkfifo', [fifo]);
  const CASES: readonly [string, string, string, RegExp][] = [
    ['a consensus FIFO', fifo, sharedGeoIpFile, /consensus file .* is a FIFO/],
    ['a consensus at /dev/zero', '/dev/zero', sharedGeoIpFile, /consensus file .* is a device, not a regular file/],
    ['a GeoIP file at /dev/zero', sharedConsensusFile, '/dev/zero', /GeoIP file .* is a device, not a regular file/],
  ];
  for (const [name, consensus, geoip, message] of CASES) {
    test(name, { timeout: 20_000 }, async () => {
      const error = await createConsensusSource(consensus, geoip)
        .fetch(CHECKPOINT)
        .catch((e: unknown) => e);
      assert.ok(error instanceof TorfleetError);
      assert.equal(error.code, 'NODE_SOURCE_INVALID');
      assert.match(error.message, message);
    });
  }
});
