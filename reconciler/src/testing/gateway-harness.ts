import type { AddressInfo } from 'node:net';
import { createLogger } from '../logger.js';
import { createGateway, type Gateway } from '../gateway/gateway.js';
import type { GatewayLimits } from '../gateway/gateway-limits.js';
import { createGatewayMetrics, type GatewayMetrics } from '../gateway/gateway-metrics.js';
import type { RouteTable } from '../gateway/route-types.js';
import { createDirectDialer, type DirectDialer, type DirectDialerOptions } from './direct-dialer.js';

export interface TestGateway {
  readonly gateway: Gateway;
  readonly port: number;
  readonly dialer: DirectDialer;
  readonly metrics: GatewayMetrics;
  /** Every log line the gateway wrote, as written (JSON text). */
  readonly logs: string[];
  close(): Promise<void>;
}

/**
 * TESTS ONLY: a gateway on 127.0.0.1 (or `host`; ephemeral port) with the direct dialer and a debug logger that
 * keeps lines.
 */
export async function startTestGateway(
  table: RouteTable,
  options: {
    readonly limits?: Partial<GatewayLimits>;
    readonly dialer?: DirectDialerOptions;
    readonly host?: string;
  } = {},
): Promise<TestGateway> {
  const logs: string[] = [];
  const dialer = createDirectDialer(options.dialer);
  const metrics = createGatewayMetrics();
  const gateway = createGateway({
    table,
    dialer,
    log: createLogger((line) => logs.push(line), 'debug'),
    metrics,
    ...(options.limits ? { limits: options.limits } : {}),
  });
  await new Promise<void>((resolve) => gateway.server.listen(0, options.host ?? '127.0.0.1', resolve));
  return {
    gateway,
    port: (gateway.server.address() as AddressInfo).port,
    dialer,
    metrics,
    logs,
    close: () => gateway.drain(0),
  };
}
