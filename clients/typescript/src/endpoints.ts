import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { Breaker, type BreakerSettings } from './breaker.js';

/** Idle kept-alive connections held per endpoint (as the Python client). */
const IDLE_PER_ENDPOINT = 8;

/** What an HTTPS endpoint trusts: the CA file's text, or the system's store (null). */
export type TrustedCa = Buffer | null;

/** One service endpoint: where it is, its breaker and its pool of kept-alive connections. */
export class Endpoint {
  readonly url: string;
  readonly https: boolean;
  readonly host: string;
  readonly port: number;
  readonly prefix: string;
  readonly breaker: Breaker;
  #agent: HttpAgent;

  constructor(url: string, breaker: BreakerSettings, ca: TrustedCa) {
    let parts: URL;
    try {
      parts = new URL(url);
    } catch {
      throw new Error(`endpoint ${JSON.stringify(url)}: want http://HOST:PORT or https://HOST:PORT`);
    }
    if ((parts.protocol !== 'http:' && parts.protocol !== 'https:') || parts.hostname === '') {
      throw new Error(`endpoint ${JSON.stringify(url)}: want http://HOST:PORT or https://HOST:PORT`);
    }
    this.url = url;
    this.https = parts.protocol === 'https:';
    this.host = parts.hostname.startsWith('[') ? parts.hostname.slice(1, -1) : parts.hostname;
    this.port = parts.port === '' ? (this.https ? 443 : 80) : Number(parts.port);
    this.prefix = parts.pathname.replace(/\/+$/, '');
    this.breaker = new Breaker(breaker);
    this.#agent = this.#newAgent(ca);
  }

  get agent(): HttpAgent {
    return this.#agent;
  }

  /** A changed CA file: new connections verify against it; the old pool is closed. */
  trust(ca: TrustedCa): void {
    if (!this.https) return;
    const old = this.#agent;
    this.#agent = this.#newAgent(ca);
    old.destroy();
  }

  closeIdle(): void {
    this.#agent.destroy();
  }

  #newAgent(ca: TrustedCa): HttpAgent {
    const common = { keepAlive: true, maxFreeSockets: IDLE_PER_ENDPOINT, scheduling: 'lifo' as const };
    // Certificates are always verified (rejectUnauthorized), host names and IP literals checked, TLS 1.2 at least.
    return this.https
      ? new HttpsAgent({ ...common, rejectUnauthorized: true, minVersion: 'TLSv1.2', ...(ca ? { ca } : {}) })
      : new HttpAgent(common);
  }
}

/** URLs from a setting or a file: one a line or comma-separated, `#` to the end of a line is a comment. */
export function parseUrls(text: string): string[] {
  return text
    .replaceAll(',', '\n')
    .split('\n')
    .map((line) => (line.split('#', 1)[0] ?? '').trim())
    .filter((line) => line !== '');
}
