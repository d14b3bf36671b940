import { crc32 } from 'node:zlib';

/** The embedded fallback configuration: `{"regions": {"US": ["socks5h://..."], "*": [...]}}`, `*` for any region. */
export interface FallbackConfig {
  readonly regions?: Readonly<Record<string, string | readonly string[]>>;
}

/** Proxy URLs per region, checked when the client is made. */
export class EmbeddedFallback {
  readonly #regions = new Map<string, readonly string[]>();

  constructor(config: FallbackConfig | null | undefined) {
    for (const [region, given] of Object.entries(config?.regions ?? {})) {
      const urls: unknown = typeof given === 'string' ? [given] : given;
      if (!Array.isArray(urls) || !urls.every((url) => typeof url === 'string' && url !== '')) {
        throw new Error(`fallback region ${JSON.stringify(region)}: want a list of proxy URLs`);
      }
      if (urls.length > 0) this.#regions.set(region, [...(urls as string[])]);
    }
  }

  /**
   * The region's URL for this exchange and connection type: the region looked up exactly, then upper-cased, then
   * `*`; one URL of the list chosen by a hash of exchange and connection type (the same exchange keeps the same
   * fallback proxy). Null when there is none.
   */
  pick(exchangeId: string, connectionType: string, region: string): string | null {
    const urls = this.#regions.get(region) ?? this.#regions.get(region.toUpperCase()) ?? this.#regions.get('*');
    if (!urls) return null;
    return urls[crc32(`${exchangeId}\u0000${connectionType}`) % urls.length] ?? null;
  }
}
