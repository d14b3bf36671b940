import { createSecureContext } from 'node:tls';
import type { BreakerSettings } from './breaker.js';
import { Endpoint, parseUrls, type TrustedCa } from './endpoints.js';
import { fromEnv, type ClientOptions } from './options.js';
import type { Counters } from './stats.js';
import { WatchedFile } from './watched-file.js';

/**
 * Where the service is and how to talk to it: the endpoints (each with its breaker), the token and the CA, from the
 * options or the environment, and followed while running (every watch interval: the endpoints file or
 * TORFLEET_BROKER_URLS, the token file, the CA file; files by inode, size and times). A change that cannot be used
 * keeps what was in effect.
 */
export class WatchedSettings {
  #endpoints: Endpoint[];
  #endpointsSetting: string | undefined;
  readonly #endpointsFile: WatchedFile | undefined;
  #token: string;
  readonly #tokenFile: WatchedFile | undefined;
  readonly #caFile: WatchedFile | undefined;
  #ca: TrustedCa = null;
  #timer: NodeJS.Timeout | undefined;
  #watching = false;

  constructor(
    options: ClientOptions,
    private readonly breaker: BreakerSettings,
    private readonly counters: Counters,
  ) {
    // Endpoints: the list given, else its file (re-read when it changes), else TORFLEET_BROKER_URLS (re-read when
    // it changes), else TORFLEET_BROKER_URLS_FILE.
    let urls: string[];
    if (options.endpoints !== undefined) {
      urls = typeof options.endpoints === 'string' ? parseUrls(options.endpoints) : [...options.endpoints];
    } else if (options.endpointsFile !== undefined || fromEnv('TORFLEET_BROKER_URLS') === undefined) {
      const file = options.endpointsFile ?? fromEnv('TORFLEET_BROKER_URLS_FILE');
      if (file === undefined) {
        throw new Error('no broker endpoints: pass endpoints or endpointsFile, or set TORFLEET_BROKER_URLS(_FILE)');
      }
      this.#endpointsFile = new WatchedFile(file);
      urls = parseUrls(this.#endpointsFile.read());
    } else {
      this.#endpointsSetting = fromEnv('TORFLEET_BROKER_URLS') ?? '';
      urls = parseUrls(this.#endpointsSetting);
    }
    if (urls.length === 0) throw new Error(`no broker endpoints in ${this.#endpointsFile?.path ?? 'endpoints'}`);

    // Token: the one given, else its file (re-read when it changes), else the environment.
    let token = options.token;
    let tokenFile = options.tokenFile;
    if (token === undefined && tokenFile === undefined) {
      token = fromEnv('TORFLEET_BROKER_TOKEN');
      tokenFile = token === undefined ? fromEnv('TORFLEET_BROKER_TOKEN_FILE') : undefined;
    }
    if (token === undefined && tokenFile !== undefined) {
      this.#tokenFile = new WatchedFile(tokenFile);
      token = this.#tokenFile.read().trim();
    }
    if (!token) throw new Error('no broker token: pass token or tokenFile, or set TORFLEET_BROKER_TOKEN(_FILE)');
    this.#token = token;

    const caFile = options.caFile ?? fromEnv('TORFLEET_BROKER_CA_FILE');
    if (caFile !== undefined) {
      this.#caFile = new WatchedFile(caFile);
      this.#ca = this.#caFile.readBytes();
    }
    this.#endpoints = urls.map((url) => new Endpoint(url, breaker, this.#ca));
  }

  get endpoints(): readonly Endpoint[] {
    return this.#endpoints;
  }

  get token(): string {
    return this.#token;
  }

  /** Starts the checks (an unref()ed timer: it never keeps the process alive). */
  watch(intervalMs: number): void {
    this.#timer = setInterval(() => void this.#watchOnce(), intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  closeIdle(): void {
    for (const endpoint of this.#endpoints) endpoint.closeIdle();
  }

  async #watchOnce(): Promise<void> {
    if (this.#watching || this.#timer === undefined) return;
    this.#watching = true;
    try {
      if (this.#endpointsSetting !== undefined) {
        const setting = process.env.TORFLEET_BROKER_URLS ?? '';
        if (setting !== this.#endpointsSetting) {
          this.#endpointsSetting = setting;
          this.#setEndpoints(parseUrls(setting));
        }
      } else if (this.#endpointsFile && (await this.#endpointsFile.changed())) {
        this.#setEndpoints(this.#readOr(this.#endpointsFile, (text) => parseUrls(text), []));
      }
      if (this.#tokenFile && (await this.#tokenFile.changed())) {
        const token = this.#readOr(this.#tokenFile, (text) => text.trim(), '');
        if (token !== '') {
          this.#token = token;
          this.counters.tokenReloads += 1;
        }
      }
      if (this.#caFile && (await this.#caFile.changed())) this.#reloadCa(this.#caFile);
    } catch {
      this.counters.endpointReloadErrors += 1;
    } finally {
      this.#watching = false;
    }
  }

  #readOr<T>(file: WatchedFile, parse: (text: string) => T, otherwise: T): T {
    try {
      return parse(file.read());
    } catch {
      return otherwise;
    }
  }

  /** A changed CA file that parses is trusted by new connections; a broken one keeps the previous CA. */
  #reloadCa(file: WatchedFile): void {
    let ca: Buffer;
    try {
      ca = file.readBytes();
      createSecureContext({ ca });
      if (!ca.includes('-----BEGIN CERTIFICATE-----')) throw new Error('no certificate');
    } catch {
      this.counters.endpointReloadErrors += 1;
      return;
    }
    this.#ca = ca;
    for (const endpoint of this.#endpoints) endpoint.trust(ca);
    this.counters.caReloads += 1;
  }

  /** Follows a changed endpoint list; breakers of URLs still listed are kept. An unusable list is ignored. */
  #setEndpoints(urls: readonly string[]): void {
    const old = new Map(this.#endpoints.map((endpoint) => [endpoint.url, endpoint]));
    let fresh: Endpoint[];
    try {
      if (urls.length === 0) throw new Error('empty');
      fresh = urls.map((url) => old.get(url) ?? new Endpoint(url, this.breaker, this.#ca));
    } catch {
      this.counters.endpointReloadErrors += 1;
      return;
    }
    this.#endpoints = fresh;
    this.counters.endpointReloads += 1;
    for (const [url, endpoint] of old) if (!urls.includes(url)) endpoint.closeIdle();
  }
}
