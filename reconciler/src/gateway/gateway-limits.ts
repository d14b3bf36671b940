/** The gateway's bounds against slow, huge or too many clients; every one a setting with a named default. */
export interface GatewayLimits {
  /** Open client connections beyond which new ones are answered 503 (HTTP) or refused (SOCKS5) and closed. */
  readonly maxConnections: number;
  /** From accept until a SOCKS5 request (or the first byte of anything) has arrived. */
  readonly handshakeTimeoutMs: number;
  /** From accept (or the end of the previous request) until an HTTP request head has arrived (slowloris): 408. */
  readonly headersTimeoutMs: number;
  /** A request head (request line and headers) larger than this is answered 431. */
  readonly maxHeaderSize: number;
  /** A tunnel or HTTP connection with no byte either way for this long is closed. */
  readonly idleTimeoutMs: number;
  /** An idle keep-alive HTTP client connection is closed after this long. */
  readonly keepAliveTimeoutMs: number;
}

export const DEFAULT_GATEWAY_LIMITS: GatewayLimits = {
  maxConnections: 4096,
  handshakeTimeoutMs: 10_000,
  headersTimeoutMs: 10_000,
  maxHeaderSize: 16 * 1024,
  idleTimeoutMs: 300_000,
  keepAliveTimeoutMs: 5_000,
};
