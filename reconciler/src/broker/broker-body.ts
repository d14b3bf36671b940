import type { IncomingMessage } from 'node:http';
import { gunzip } from 'node:zlib';

/** Largest request body the broker reads, before and after gzip decoding (1000 feedback events fit easily). */
export const MAX_BODY_BYTES = 1024 * 1024;

export interface BodyRefusal {
  readonly status: 400 | 413 | 415;
  readonly code: 'invalid_json' | 'body_too_large' | 'unsupported_encoding';
  readonly message: string;
  readonly field: string | null;
}

export type JsonBody =
  { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly refusal: BodyRefusal };

const tooLarge = (): BodyRefusal => ({
  status: 413,
  code: 'body_too_large',
  message: `the body is over ${MAX_BODY_BYTES} bytes (after gzip decoding too): send feedback in batches of at most 1000 events`,
  field: null,
});

/**
 * Reads a request's JSON body: identity or gzip (`Content-Encoding`), at most MAX_BODY_BYTES on the wire and
 * decoded (stopped as soon as it is over, never held whole), then parsed. A refusal says what and how to fix it;
 * the caller closes the connection after a refusal, since the rest of the body is not read.
 */
export async function readJsonBody(request: IncomingMessage): Promise<JsonBody> {
  const encoding = (request.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
  if (encoding !== 'identity' && encoding !== 'gzip') {
    return {
      ok: false,
      refusal: {
        status: 415,
        code: 'unsupported_encoding',
        message: `Content-Encoding ${JSON.stringify(encoding.slice(0, 40))} is not accepted: send gzip or no encoding`,
        field: 'Content-Encoding',
      },
    };
  }
  const declared = Number(request.headers['content-length'] ?? 0);
  if (declared > MAX_BODY_BYTES) return { ok: false, refusal: tooLarge() };
  const read = await readCapped(request);
  if (read === null) return { ok: false, refusal: tooLarge() };
  let bytes: Buffer = read;
  if (encoding === 'gzip') {
    const decoded = await gunzipped(bytes);
    if (!decoded.ok) return decoded;
    bytes = decoded.bytes;
  }
  try {
    return { ok: true, value: JSON.parse(bytes.toString('utf8')) as unknown };
  } catch (error) {
    const position = /position (\d+)/.exec(String(error))?.[1];
    return {
      ok: false,
      refusal: {
        status: 400,
        code: 'invalid_json',
        message: `the body is not JSON${position === undefined ? (bytes.length === 0 ? ' (it is empty)' : '') : ` (at byte ${position})`}: send one JSON object${request.url?.endsWith('/feedback') ? ' or an array of them' : ''}`,
        field: null,
      },
    };
  }
}

/** The whole body, or null once it grows past `maxBytes` (reading stops there). Plain events: no async iterator. */
export function readCapped(request: IncomingMessage, maxBytes = MAX_BODY_BYTES): Promise<Buffer | null> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > maxBytes) {
        request.off('data', onData);
        request.pause();
        resolve(null);
        return;
      }
      chunks.push(chunk);
    };
    request.on('data', onData);
    request.once('end', () => {
      resolve(chunks.length === 1 ? (chunks[0] ?? Buffer.alloc(0)) : Buffer.concat(chunks));
    });
    // A client that goes away mid-body ('aborted', a reset): its mistake, not the broker's, so no rejection (that
    // would be logged as a failed call); the answer is never sent, but the promise settles.
    request.once('error', () => {
      resolve(null);
    });
    request.once('close', () => {
      if (!request.complete) resolve(null);
    });
  });
}

function gunzipped(bytes: Buffer): Promise<{ ok: true; bytes: Buffer } | { ok: false; refusal: BodyRefusal }> {
  return new Promise((resolve) => {
    gunzip(bytes, { maxOutputLength: MAX_BODY_BYTES }, (error, result) => {
      if (!error) {
        resolve({ ok: true, bytes: result });
        return;
      }
      const code = (error as NodeJS.ErrnoException).code;
      resolve({
        ok: false,
        refusal:
          code === 'ERR_BUFFER_TOO_LARGE'
            ? tooLarge()
            : {
                status: 415,
                code: 'unsupported_encoding',
                message:
                  'the body says Content-Encoding: gzip but does not decode as gzip: compress it whole, or send it plain',
                field: 'Content-Encoding',
              },
      });
    });
  });
}
