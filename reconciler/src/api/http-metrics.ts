import { Counter, Histogram, type Registry } from 'prom-client';

export interface HttpMetrics {
  observeRequest(method: string, route: string, status: number, seconds: number): void;
}

/** The API's requests, by method, route template and status; every route starts at 0 for GET 200. */
export function registerHttpMetrics(registry: Registry, routes: readonly string[]): HttpMetrics {
  const registers = [registry];
  const httpRequests = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests to the API, by method, route template and status.',
    labelNames: ['method', 'route', 'status'],
    registers,
  });
  const httpDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Duration of HTTP requests to the API, by method and route template.',
    labelNames: ['method', 'route'],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers,
  });
  for (const route of routes) {
    httpRequests.inc({ method: 'GET', route, status: '200' }, 0);
    httpDuration.zero({ method: 'GET', route });
  }
  return {
    observeRequest(method, route, status, seconds) {
      httpRequests.inc({ method, route, status: String(status) });
      httpDuration.observe({ method, route }, seconds);
    },
  };
}
