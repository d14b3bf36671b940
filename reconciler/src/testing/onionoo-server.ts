import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { selectFields, type OnionooDetailsJson } from './onionoo-fixture.js';

/** A scripted answer that replaces the normal one for one request. */
export type ScriptedAnswer =
  | { kind: 'status'; status: number; headers?: Record<string, string>; body?: string }
  | { kind: 'truncated' } // a 200 whose JSON stops half-way (correctly framed, so only the parser can tell)
  | { kind: 'cut-connection' } // headers promise more bytes than are sent, then the socket closes
  | { kind: 'body'; contentType: string; body: string };

export interface RecordedRequest {
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly at: number;
}

/**
 * A loopback server speaking Onionoo's protocol for `/details`: `fields=` filtering, Last-Modified,
 * If-Modified-Since → 304, gzip when asked. Tests push scripted answers (503 + Retry-After, truncated JSON,
 * wrong content) that are served first, one per request.
 */
export class OnionooTestServer {
  readonly requests: RecordedRequest[] = [];
  readonly script: ScriptedAnswer[] = [];
  lastModified: Date;
  private server: Server | undefined;
  private readonly cache = new Map<string, Buffer>();
  private cacheFor: OnionooDetailsJson | undefined;

  /** When true, `fields=` is ignored and every relay comes with every field (the largest answer). */
  ignoreFields = false;

  constructor(
    private document: OnionooDetailsJson,
    lastModified = new Date('2022-11-19T10:05:00Z'),
  ) {
    this.lastModified = lastModified;
  }

  /** Serves a new document, as Onionoo does after its hourly update. */
  publish(document: OnionooDetailsJson, lastModified: Date): void {
    this.document = document;
    this.lastModified = lastModified;
  }

  async start(): Promise<string> {
    this.server = createServer((request, response) => {
      this.requests.push({ url: request.url ?? '', headers: request.headers, at: Date.now() });
      this.answer(request.url ?? '/', request.headers, response);
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    const { port } = this.server.address() as AddressInfo;
    return `http://127.0.0.1:${port}`;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) =>
      server.close(() => {
        resolve();
      }),
    );
  }

  private answer(url: string, headers: IncomingHttpHeaders, response: ServerResponse): void {
    const scripted = this.script.shift();
    if (scripted) {
      this.answerScripted(scripted, response);
      return;
    }
    const parsed = new URL(url, 'http://127.0.0.1');
    if (parsed.pathname !== '/details') {
      response.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
      return;
    }
    const since = headers['if-modified-since'];
    const lastModified = this.lastModified.toUTCString();
    if (since && Date.parse(since) >= Math.floor(this.lastModified.getTime() / 1000) * 1000) {
      response.writeHead(304, { 'last-modified': lastModified }).end();
      return;
    }
    const fields = this.ignoreFields ? null : (parsed.searchParams.get('fields') ?? null);
    const gzip = /\bgzip\b/.test(headers['accept-encoding'] ?? '');
    const payload = this.encoded(fields, gzip);
    response.writeHead(200, {
      'content-type': 'application/json',
      'last-modified': lastModified,
      ...(gzip ? { 'content-encoding': 'gzip' } : {}),
      'content-length': String(payload.length),
    });
    response.end(payload);
  }

  /** The answer's bytes, encoded once per (document, fields, gzip) so a benchmark times the client, not the server. */
  private encoded(fields: string | null, gzip: boolean): Buffer {
    const key = `${fields ?? '*'}|${String(gzip)}`;
    if (this.cacheFor !== this.document) {
      this.cache.clear();
      this.cacheFor = this.document;
    }
    let payload = this.cache.get(key);
    if (!payload) {
      const body = Buffer.from(JSON.stringify(selectFields(this.document, fields?.split(',') ?? null)));
      payload = gzip ? gzipSync(body) : body;
      this.cache.set(key, payload);
    }
    return payload;
  }

  private answerScripted(scripted: ScriptedAnswer, response: ServerResponse): void {
    switch (scripted.kind) {
      case 'status':
        response.writeHead(scripted.status, scripted.headers).end(scripted.body ?? '');
        return;
      case 'body':
        response.writeHead(200, { 'content-type': scripted.contentType }).end(scripted.body);
        return;
      case 'truncated': {
        const full = JSON.stringify(this.document);
        response
          .writeHead(200, { 'content-type': 'application/json', 'last-modified': this.lastModified.toUTCString() })
          .end(full.slice(0, Math.floor(full.length / 2)));
        return;
      }
      case 'cut-connection':
        response.writeHead(200, { 'content-type': 'application/json', 'content-length': '100000' });
        response.write('{"version":"8.0","relays_published":"2022-11-19 10:00:00","relays":[');
        setTimeout(() => response.socket?.destroy(), 20);
        return;
    }
  }
}
