import type { ListenAddress } from '../listen-address.js';
import type { GatewayInputWire } from './gateway-input.js';

/** What `torfleet run` asks its gateway worker; each request is answered by one WorkerReply of the same id. */
export type WorkerRequest = { readonly id: number } & (
  | { readonly op: 'start'; readonly listen: ListenAddress; readonly input: GatewayInputWire }
  | { readonly op: 'update'; readonly input: GatewayInputWire }
  | { readonly op: 'unusable'; readonly proxies: readonly string[] }
  | { readonly op: 'metrics' }
  | { readonly op: 'drain'; readonly ms: number }
);

export type WorkerReply =
  | { readonly id: number; readonly ok: true; readonly value: unknown }
  | { readonly id: number; readonly ok: false; readonly message: string; readonly config: boolean };
