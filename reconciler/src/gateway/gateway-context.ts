import type { Logger } from '../logger.js';
import type { Cancel } from './cancel.js';
import type { Dialer } from './dial-types.js';
import type { GatewayLimits } from './gateway-limits.js';
import type { GatewayMetrics, GatewayProtocol, GatewayResult } from './gateway-metrics.js';
import type { OpenTunnels } from './open-tunnels.js';
import type { Redactor } from './redact.js';
import type { RouteTable, Target } from './route-types.js';
import { hostPort } from '../listen-address.js';

/** The routes and redaction a connection was accepted under: `update` changes them for new connections only. */
export interface RoutingView {
  readonly table: RouteTable;
  readonly redactor: Redactor;
}

/** What every inbound handler shares. */
export interface GatewayContext {
  readonly dialer: Dialer;
  readonly log: Logger;
  readonly metrics: GatewayMetrics;
  readonly limits: GatewayLimits;
  readonly open: OpenTunnels;
  /** Cancelled when the gateway stops: dials in progress give up. */
  readonly stopping: Cancel;
  /** True once `drain` started: HTTP answers say `Connection: close`. */
  draining(): boolean;
}

/** The one log line at the end of each proxied connection (or plain HTTP request). */
export interface ConnectionEnd {
  readonly route: string;
  readonly protocol: GatewayProtocol;
  readonly result: GatewayResult;
  readonly member: string | null;
  readonly bytesUp: number;
  readonly bytesDown: number;
  readonly startedAt: number;
  /** `host:port`, redacted; logged at debug only. */
  readonly target: string | null;
  /** A redacted reason for a result other than ok. */
  readonly message?: string;
}

/** Counts the connection and logs its end: route, protocol, result, member, bytes, duration at info; target at debug. */
export function recordConnectionEnd(context: GatewayContext, end: ConnectionEnd): void {
  context.metrics.connection(end.route, end.protocol, end.result);
  const fields = {
    route: end.route,
    protocol: end.protocol,
    result: end.result,
    member: end.member,
    bytesUp: end.bytesUp,
    bytesDown: end.bytesDown,
    durationMs: Math.round(performance.now() - end.startedAt),
    ...(end.message === undefined ? {} : { reason: end.message }),
  };
  context.log.info('gateway connection', fields);
  if (end.target !== null) context.log.debug('gateway connection target', { ...fields, target: end.target });
}

/** `host:port` of a target for the debug log (IPv6 in brackets), redacted. */
export function targetText(target: Target, redactor: Redactor): string {
  return redactor.redact(hostPort(target.host, target.port));
}
