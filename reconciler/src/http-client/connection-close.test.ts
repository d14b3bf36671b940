import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { createConsensusSource } from '../nodes/consensus-source.js';
import { createOnionooSource } from '../nodes/onionoo-source.js';
import { Http10Server } from '../testing/http10-server.js';
import { buildOnionooDetails } from '../testing/onionoo-fixture.js';
import { sharedConsensusFile, sharedGeoIpFile } from '../testing/shared-data.js';
import { fetchDocument, fetchStream } from './fetch-document.js';

// This file's port block: 29000-29019.
const PORT = 29000;
const NO_RETRY = { attempts: 1, baseDelayMs: 0, maxDelayMs: 0, maxRetryAfterMs: 0 };

const details = Buffer.from(JSON.stringify(buildOnionooDetails({ synthetic: 4000 })));
const relayCount = 6088 + 4000;
const consensus = readFileSync(sharedConsensusFile);

/** Reads the body slowly: every chunk waits a moment, so the client has to hold the rest back (backpressure). */
async function slowly(body: AsyncIterable<Buffer>): Promise<number> {
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    await sleep(2);
  }
  return size;
}

describe('HTTP/1.0 servers that close the connection after the body', () => {
  const servers: Http10Server[] = [];
  const urls: Record<string, string> = {};
  const variants = [
    { name: 'length', contentLength: true, gzip: false },
    { name: 'eof', contentLength: false, gzip: false },
    { name: 'gzip-length', contentLength: true, gzip: true },
    { name: 'gzip-eof', contentLength: false, gzip: true },
  ];

  before(async () => {
    for (const [i, variant] of variants.entries()) {
      const server = new Http10Server((path) => {
        const raw = path.startsWith('/tor/') ? consensus : details;
        const type = path.startsWith('/tor/') ? 'text/plain' : 'application/json';
        return {
          headers: { 'Content-Type': type, ...(variant.gzip ? { 'Content-Encoding': 'gzip' } : {}) },
          body: variant.gzip ? gzipSync(raw) : raw,
          contentLength: variant.contentLength,
        };
      });
      servers.push(server);
      urls[variant.name] = await server.start(PORT + i);
    }
  });
  after(async () => {
    for (const server of servers) await server.stop();
  });

  for (const variant of variants) {
    test(`a slow consumer reads a ${relayCount}-relay details document whole (${variant.name})`, async () => {
      const { head, result } = await fetchStream(
        `${urls[variant.name] ?? ''}/details`,
        { what: 'onionoo details', retry: NO_RETRY },
        (_head, body) => slowly(body),
      );
      assert.equal(head.status, 200);
      assert.equal(result, details.length);
    });

    test(`a slow consumer reads the whole 2.4 MB consensus (${variant.name})`, async () => {
      const { result } = await fetchStream(
        `${urls[variant.name] ?? ''}/tor/status-vote/current/consensus`,
        { what: 'consensus', retry: NO_RETRY },
        (_head, body) => slowly(body),
      );
      assert.equal(result, consensus.length);
    });
  }

  test('nodes refresh from Onionoo over HTTP/1.0 gets every relay', async () => {
    const source = createOnionooSource(urls.eof ?? '', { retry: NO_RETRY });
    const fetched = await source.fetch({ lastModified: null, relaysPublished: null });
    assert.equal(fetched.kind === 'updated' && fetched.snapshot.relays.length, relayCount);
  });

  test('nodes refresh from a DirPort-like consensus server gets every relay', async () => {
    const source = createConsensusSource(
      `${urls['gzip-eof'] ?? ''}/tor/status-vote/current/consensus`,
      sharedGeoIpFile,
      {
        retry: NO_RETRY,
      },
    );
    const fetched = await source.fetch({ lastModified: null, relaysPublished: null });
    assert.equal(fetched.kind === 'updated' && fetched.snapshot.relays.length, 6088);
  });

  test('fetchDocument collects an EOF-framed body whole', async () => {
    const document = await fetchDocument(`${urls.eof ?? ''}/tor/status-vote/current/consensus`, {
      what: 'consensus',
      retry: NO_RETRY,
    });
    assert.deepEqual(document.body, consensus);
  });
});
