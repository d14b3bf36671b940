export { ProxyServiceClient, type CallOptions } from './client.js';
export { BrokerError, NoProxyError, ServiceUnavailableError, TransportError } from './errors.js';
export type { FallbackConfig } from './fallback.js';
export type { FeedbackEvent, WireFeedbackEvent } from './feedback-buffer.js';
export type { FallbackPolicy, Lease, LeaseSource, RequestArgs } from './lease.js';
export type { ClientOptions } from './options.js';
export type { ClientStats, EndpointStats } from './stats.js';
export { PATHS, type Answer } from './transport.js';
