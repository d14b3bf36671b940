import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import type { EligibleExit } from '../nodes/eligible-exit.js';
import { computePlan } from '../plan/compute-plan.js';
import type { ObservedProxy } from '../plan/plan-types.js';
import type { EgressCheck } from '../probe/egress-probe.js';
import type { ProxyHealth } from '../probe/proxy-health.js';
import { schemaErrors } from '../testing/api-schemas.js';
import { testFleet, testPool } from '../testing/fleet-fixtures.js';
import { createApiServer } from './api-server.js';
import type { ApiSource } from './api-source.js';

/** Health in GET /proxies, torfleet_proxies_ready, and the readiness rule, on a real HTTP server. */
const run = promisify(execFile);
const exit = (n: number, country: string): EligibleExit => ({
  fingerprint: n.toString(16).toUpperCase().padStart(40, '0'),
  nickname: `e${n}`,
  address: `198.51.100.${n}`,
  country,
  network: `198.${n}.0.0/16`,
});
const fleet = testFleet([
  testPool('us', { count: 2 }),
  testPool('eu', { geo: ['DE'], mode: 'rotating', count: 1, basePort: 20100 }),
]);
const plan = computePlan({
  fleet,
  revision: 'abc123',
  exits: [exit(1, 'US'), exit(2, 'US'), exit(3, 'DE')],
  observed: [],
  containerShape: 's',
});
const running = (name: string, pool: string): ObservedProxy => ({
  name,
  pool,
  id: `c-${name}`,
  state: 'running',
  specHash: plan.changes.find((c) => c.proxy === name)?.after?.specHash ?? '',
  exitFingerprints: [],
  revision: 'abc123',
  startedAt: '2026-11-22T00:00:00.000Z',
});
const BOOTSTRAPPED: ProxyHealth = {
  bootstrap: 100,
  circuitEstablished: true,
  checkedAt: '2026-11-22T00:10:00.000Z',
  tag: 'done',
  summary: 'Done',
  problem: null,
  networkLive: true,
  error: null,
};
const OK: EgressCheck = {
  result: 'ok',
  address: '198.51.100.1',
  checkedAt: '2026-11-22T00:10:00.000Z',
  message: '',
  healthy: true,
  consecutiveFailures: 0,
  nextCheckAt: '2026-11-22T00:11:00.000Z',
  diagnosis: null,
};

// Mutable per test: which proxies run, what their tors and egress checks say, whether the network is on.
let observed: ObservedProxy[] = [];
let health = new Map<string, ProxyHealth>();
let egress = new Map<string, EgressCheck>();
let networkEnabled = true;
const source: ApiSource = {
  status: () => ({
    lastAppliedRevision: 'abc123',
    lastAttemptedRevision: 'abc123',
    conditions: [],
    inventory: [],
    passes: [
      {
        trigger: 'start',
        revision: 'abc123',
        startedAt: '',
        durationMs: 1,
        outcome: 'converged',
        reason: 'Succeeded',
        message: '',
        changes: [],
        shortfalls: [],
        errorCode: null,
        disposition: null,
        retryInMs: null,
      },
    ],
  }),
  lastPlan: () => plan,
  fleetPools: () => fleet.pools,
  observed: () => Promise.resolve(observed),
  nodeStats: () => ({
    exits: { US: 2, NON_US: 1 },
    relays: 10,
    relaysPublished: '2026-11-22T00:00:00.000Z',
    refreshedAt: '2026-11-22T00:05:00.000Z',
    stale: false,
  }),
  egress: (proxy) => egress.get(proxy) ?? null,
  health: (proxy, instance) => (instance === `c-${proxy}` ? (health.get(proxy) ?? null) : null),
  networkEnabled: () => networkEnabled,
  outOfRestartBudget: () => 1,
  quarantinedExits: () => 0,
};

describe('proxy health in the API, the metrics and readiness', () => {
  let base = '';
  let close = (): Promise<void> => Promise.resolve();
  before(async () => {
    const { server } = createApiServer({ source });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    close = () =>
      new Promise((resolve) => {
        server.close(() => {
          resolve();
        });
      });
  });
  after(() => close());
  const get = async (path: string): Promise<{ status: number; text: string }> => {
    const response = await fetch(`${base}${path}`);
    return { status: response.status, text: await response.text() };
  };
  const readyMetric = async (category: string): Promise<number> =>
    Number(
      new RegExp(`^torfleet_proxies_ready\\{geo_category="${category}"\\} (\\d+)$`, 'm').exec(
        (await get('/metrics')).text,
      )?.[1],
    );

  test('GET /proxies shows each running proxy health; null before a check and for a proxy not running', async () => {
    const stuck: ProxyHealth = {
      ...BOOTSTRAPPED,
      bootstrap: 5,
      circuitEstablished: false,
      tag: 'conn',
      summary: 'Connecting to a relay',
      problem: 'Connection refused (CONNECTREFUSED)',
    };
    observed = [running('us-0', 'us'), running('us-1', 'us'), { ...running('eu-0', 'eu'), state: 'stopped' }];
    health = new Map([
      ['us-1', stuck],
      ['eu-0', BOOTSTRAPPED],
    ]);
    const answer = JSON.parse((await get('/proxies')).text) as { proxies: { name: string; health: unknown }[] };
    assert.deepEqual(schemaErrors('proxies', answer), []);
    assert.deepEqual(
      answer.proxies.map((p) => [p.name, p.health]),
      [
        ['us-0', null],
        ['us-1', stuck],
        ['eu-0', null],
      ],
    );
    const one = JSON.parse((await get('/proxies/us-1')).text) as unknown;
    assert.deepEqual(schemaErrors('proxy', one), []);
    const silent: ProxyHealth = {
      ...stuck,
      bootstrap: null,
      tag: null,
      summary: null,
      problem: null,
      networkLive: null,
      error: 'no answer',
    };
    health.set('us-1', silent);
    assert.deepEqual(schemaErrors('proxy', JSON.parse((await get('/proxies/us-1')).text)), []);
  });

  const READINESS: {
    name: string;
    running: [string, string][];
    ready: string[];
    network?: boolean;
    status: number;
    message?: RegExp;
    metric: [number, number];
  }[] = [
    {
      name: 'no proxy ready at all',
      running: [
        ['us-0', 'us'],
        ['eu-0', 'eu'],
      ],
      ready: [],
      status: 503,
      message: /no proxy is ready \(bootstrapped and egress check ok\) in US 0 of 2, NON_US 0 of 1; see GET \/proxies/,
      metric: [0, 0],
    },
    {
      name: 'one geo category without a ready proxy',
      running: [
        ['us-0', 'us'],
        ['eu-0', 'eu'],
      ],
      ready: ['us-0'],
      status: 503,
      message: /in NON_US 0 of 1;/,
      metric: [1, 0],
    },
    {
      name: 'a ready proxy in every category the fleet wants: ready, though us-1 is missing',
      running: [
        ['us-0', 'us'],
        ['eu-0', 'eu'],
      ],
      ready: ['us-0', 'eu-0'],
      status: 200,
      metric: [1, 1],
    },
    {
      name: 'bootstrapped and egress ok but not running (a stale record) is not ready',
      running: [['us-0', 'us']],
      ready: ['us-0', 'eu-0'],
      status: 503,
      message: /in NON_US 0 of 1;/,
      metric: [1, 0],
    },
    {
      name: 'DisableNetwork: health does not gate readiness',
      running: [['us-0', 'us']],
      ready: [],
      network: false,
      status: 200,
      metric: [0, 0],
    },
  ];
  for (const c of READINESS) {
    test(`/readyz and torfleet_proxies_ready: ${c.name}`, async () => {
      observed = c.running.map(([name, pool]) => running(name, pool));
      health = new Map(c.ready.map((name) => [name, BOOTSTRAPPED]));
      egress = new Map(c.ready.map((name) => [name, OK]));
      networkEnabled = c.network ?? true;
      const ready = await get('/readyz');
      assert.equal(ready.status, c.status, ready.text);
      if (c.message) assert.match(ready.text, c.message);
      assert.deepEqual([await readyMetric('US'), await readyMetric('NON_US')], c.metric);
    });
  }

  test('bootstrapped alone, or egress ok alone, is not ready', async () => {
    observed = [running('us-0', 'us'), running('eu-0', 'eu')];
    networkEnabled = true;
    health = new Map([['us-0', BOOTSTRAPPED]]);
    egress = new Map([['eu-0', OK]]);
    assert.equal((await get('/readyz')).status, 503);
    assert.deepEqual([await readyMetric('US'), await readyMetric('NON_US')], [0, 0]);
  });

  test('/metrics: restart counter initialised, out-of-budget gauge, and promtool finds nothing', async () => {
    const text = (await get('/metrics')).text;
    assert.match(text, /^torfleet_proxy_restarts_total\{reason="bootstrap_stalled"\} 0$/m);
    assert.match(text, /^torfleet_proxies_out_of_restart_budget 1$/m);
    const child = run('promtool', ['check', 'metrics']);
    child.child.stdin?.end(text);
    const { stdout, stderr } = await child;
    assert.equal(`${stdout}${stderr}`.trim(), '');
  });
});
