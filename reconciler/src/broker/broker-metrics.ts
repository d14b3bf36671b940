import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { JudgedClass } from './health/health-model.js';
import type { HealthSnapshot } from './health/health-snapshot.js';

/** How a lease request ended: a new lease, the sticky one again, no proxy (`proxy_url: null`), or refused. */
export type LeaseResult = 'leased' | 'sticky' | 'no_proxy' | 'refused';
const LEASE_RESULTS: readonly LeaseResult[] = ['leased', 'sticky', 'no_proxy', 'refused'];
const JUDGED: readonly JudgedClass[] = [
  'success',
  'proxy_fault',
  'target_block',
  'target_failure',
  'none',
  'exchange_failure',
  'unknown_proxy',
];
const STATES = ['healthy', 'degraded', 'ejected'] as const;
/** Routes as metric labels; anything else is `other`. */
export const BROKER_ROUTES = ['/api/v1/proxy/request', '/api/v1/proxy/feedback', '/api/v1/proxy/health'] as const;

/**
 * The broker's metrics, in a registry of their own appended to `torfleet run`'s /metrics: leases by region and
 * result, feedback events by class, the broker's requests, and (read at scrape) proxies by state and each proxy's
 * health score (its distribution across a pool). Region labels are resolved regions (US, NON_US, a country code, a
 * pool or a cloud region of fleet.yaml), never client text, so they stay few.
 */
export class BrokerMetrics {
  readonly registry = new Registry();
  readonly #leases: Counter;
  readonly #feedback: Counter;
  readonly #requests: Counter;
  readonly #duration: Histogram;

  constructor(snapshot: () => HealthSnapshot | null) {
    const registers = [this.registry];
    this.#leases = new Counter({
      name: 'torfleet_broker_leases_total',
      help: 'Lease requests answered by the broker, by resolved region and result (refused: bad or unknown region).',
      labelNames: ['region', 'result'],
      registers,
    });
    for (const region of ['US', 'NON_US']) {
      for (const result of LEASE_RESULTS) this.#leases.inc({ region, result }, 0);
    }
    this.#feedback = new Counter({
      name: 'torfleet_broker_feedback_events_total',
      help: 'Feedback events by how the health model counted them (README, Broker: health rules).',
      labelNames: ['class'],
      registers,
    });
    for (const judged of JUDGED) this.#feedback.inc({ class: judged }, 0);
    this.#requests = new Counter({
      name: 'torfleet_broker_http_requests_total',
      help: 'HTTP requests to the broker, by route and status.',
      labelNames: ['route', 'status'],
      registers,
    });
    this.#duration = new Histogram({
      name: 'torfleet_broker_http_request_duration_seconds',
      help: 'Duration of HTTP requests to the broker, by route.',
      labelNames: ['route'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers,
    });
    for (const route of BROKER_ROUTES) {
      this.#requests.inc({ route, status: '200' }, 0);
      this.#duration.zero({ route });
    }
    new Gauge({
      name: 'torfleet_broker_proxies',
      help: 'Fleet proxies by broker health state (ejected: cooling down after proxy faults).',
      labelNames: ['pool', 'state'],
      registers,
      collect() {
        this.reset();
        const now = snapshot();
        for (const pool of now?.pools ?? []) for (const state of STATES) this.set({ pool: pool.pool, state }, 0);
        for (const proxy of now?.proxies ?? []) this.inc({ pool: proxy.pool, state: proxy.state });
      },
    });
    new Gauge({
      name: 'torfleet_broker_health_score',
      help: 'The broker health score of each fleet proxy, 0 to 1 (decaying success rate and latency).',
      labelNames: ['pool', 'proxy'],
      registers,
      collect() {
        this.reset();
        for (const proxy of snapshot()?.proxies ?? [])
          this.set({ pool: proxy.pool, proxy: proxy.proxyId }, proxy.score);
      },
    });
  }

  observeLease(region: string, result: LeaseResult): void {
    this.#leases.inc({ region, result });
  }

  observeFeedback(judged: JudgedClass): void {
    this.#feedback.inc({ class: judged });
  }

  observeRequest(route: string, status: number, seconds: number): void {
    const label = (BROKER_ROUTES as readonly string[]).includes(route) ? route : 'other';
    this.#requests.inc({ route: label, status: String(status) });
    this.#duration.observe({ route: label }, seconds);
  }
}
