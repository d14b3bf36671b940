import type { DialFailureReason } from './dial-types.js';

/** What a client sees when the dial for it fails: one row per reason, for HTTP and for SOCKS5 (RFC 1928 §6). */
export interface DialFailureAnswer {
  readonly httpStatus: number;
  readonly socksReply: number;
  /** The start of the body (HTTP) or the log line; the dial's own (redacted) message follows it. */
  readonly text: string;
}

export const SOCKS_REPLY = {
  succeeded: 0x00,
  generalFailure: 0x01,
  notAllowed: 0x02,
  networkUnreachable: 0x03,
  hostUnreachable: 0x04,
  connectionRefused: 0x05,
  ttlExpired: 0x06,
  commandNotSupported: 0x07,
  addressTypeNotSupported: 0x08,
} as const;

export const DIAL_FAILURES: Readonly<Record<DialFailureReason, DialFailureAnswer>> = {
  'no-member': { httpStatus: 502, socksReply: SOCKS_REPLY.networkUnreachable, text: 'no usable proxy in this route' },
  refused: { httpStatus: 502, socksReply: SOCKS_REPLY.connectionRefused, text: 'every proxy of the route refused' },
  timeout: { httpStatus: 504, socksReply: SOCKS_REPLY.ttlExpired, text: 'every proxy of the route timed out' },
  'target-unreachable': {
    httpStatus: 502,
    socksReply: SOCKS_REPLY.hostUnreachable,
    text: 'the proxy could not reach the target',
  },
  'upstream-auth': {
    httpStatus: 502,
    socksReply: SOCKS_REPLY.notAllowed,
    text: 'an upstream or corporate proxy refused the gateway credentials (check fleet.yaml auth)',
  },
  aborted: { httpStatus: 503, socksReply: SOCKS_REPLY.generalFailure, text: 'the gateway is stopping' },
};

/** The answer for a dial that threw `error`: a DialError's reason, anything else a general failure (a bug). */
export function dialFailureAnswer(reason: DialFailureReason | null): DialFailureAnswer {
  return reason === null
    ? { httpStatus: 502, socksReply: SOCKS_REPLY.generalFailure, text: 'the gateway failed to dial' }
    : DIAL_FAILURES[reason];
}
