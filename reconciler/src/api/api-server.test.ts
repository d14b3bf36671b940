import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { Secret } from '../fleet/secret.js';
import type { EligibleExit } from '../nodes/eligible-exit.js';
import type { NodeStats } from '../nodes/node-stats.js';
import { computePlan } from '../plan/compute-plan.js';
import type { ObservedProxy } from '../plan/plan-types.js';
import type { ControllerStatus } from '../reconcile/status.js';
import { schemaErrors } from '../testing/api-schemas.js';
import { testFleet, testPool } from '../testing/fleet-fixtures.js';
import { createApiServer } from './api-server.js';
import type { ApiSource } from './api-source.js';

const run = promisify(execFile);
const exit = (n: number, country: string): EligibleExit => ({
  fingerprint: n.toString(16).toUpperCase().padStart(40, '0'),
  nickname: `e${n}`,
  address: `198.51.100.${n}`,
  country,
  network: '198.51.0.0/16',
});
const SECRET = 'svc:do-not-leak-7f3a';
const fleet = testFleet(
  [testPool('us', { count: 2 }), testPool('eu', { geo: ['DE'], mode: 'rotating', count: 1, basePort: 20100 })],
  { httpsProxy: { address: '192.0.2.1:3128', auth: new Secret(SECRET) } },
);
const plan = computePlan({
  fleet,
  revision: 'abc123',
  exits: [exit(1, 'US'), exit(2, 'US'), exit(3, 'DE')],
  observed: [],
  containerShape: 's',
});
const observed: ObservedProxy[] = [
  {
    name: 'us-0',
    pool: 'us',
    id: 'c0',
    state: 'running',
    specHash: plan.changes[0]?.after?.specHash ?? '',
    exitFingerprints: [],
    revision: 'abc123',
    startedAt: '2026-11-22T00:00:00.000Z',
  },
  {
    name: 'eu-0',
    pool: 'eu',
    id: 'c2',
    state: 'stopped',
    specHash: '0123456789abcdef0123',
    exitFingerprints: [],
    revision: 'abc123',
    startedAt: null,
  },
];
const STATS: NodeStats = {
  exits: { US: 2, NON_US: 1 },
  relays: 10,
  relaysPublished: '2026-11-22T00:00:00.000Z',
  refreshedAt: '2026-11-22T00:05:00.000Z',
  stale: false,
};
let stats: NodeStats = STATS;
let status: ControllerStatus = {
  lastAppliedRevision: 'abc123',
  lastAttemptedRevision: 'abc123',
  conditions: [],
  passes: [],
  inventory: [],
};
const source: ApiSource = {
  status: () => status,
  lastPlan: () => plan,
  fleetPools: () => fleet.pools,
  observed: () => Promise.resolve(observed),
  nodeStats: () => stats,
  egress: (proxy) =>
    proxy === 'us-0'
      ? {
          result: 'ok',
          address: '198.51.100.1',
          checkedAt: '2026-11-22T00:10:00.000Z',
          message: '',
          healthy: true,
          consecutiveFailures: 0,
          nextCheckAt: '2026-11-22T00:11:00.000Z',
          diagnosis: null,
        }
      : null,
  quarantinedExits: () => 0,
};

async function serve(token?: string): Promise<{ base: string; close: () => Promise<void> }> {
  const { server } = createApiServer({ source, token });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    base: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((resolve) =>
        server.close(() => {
          resolve();
        }),
      ),
  };
}

describe('the read-only API', () => {
  let base = '';
  let close: () => Promise<void> = () => Promise.resolve();
  before(async () => ({ base, close } = await serve()));
  after(() => close());
  const get = async (
    path: string,
    init?: RequestInit,
  ): Promise<{ status: number; headers: Headers; json: Record<string, unknown> }> => {
    const response = await fetch(`${base}${path}`, init);
    return {
      status: response.status,
      headers: response.headers,
      json: (await response.json()) as Record<string, unknown>,
    };
  };

  test('GET /proxies: every wanted proxy with what runs it', async () => {
    const { status: code, json } = await get('/proxies');
    assert.equal(code, 200);
    assert.equal(json.revision, 'abc123');
    const proxies = json.proxies as Record<string, unknown>[];
    assert.deepEqual(proxies[0], {
      name: 'us-0',
      pool: 'us',
      geo: 'US',
      mode: 'strict',
      port: 20000,
      bind: '127.0.0.1',
      state: 'running',
      exit: plan.changes[0]?.after?.exits,
      containerId: 'c0',
      specHash: plan.changes[0]?.after?.specHash,
      since: '2026-11-22T00:00:00.000Z',
      node: null,
      reason: null,
      tor: null,
      egress: {
        result: 'ok',
        address: '198.51.100.1',
        checkedAt: '2026-11-22T00:10:00.000Z',
        message: '',
        healthy: true,
        consecutiveFailures: 0,
        nextCheckAt: '2026-11-22T00:11:00.000Z',
        diagnosis: null,
      },
      health: null,
    });
    assert.deepEqual(
      proxies.map((p) => [p.name, p.state, p.containerId]),
      [
        ['us-0', 'running', 'c0'],
        ['us-1', 'missing', null],
        ['eu-0', 'stopped', 'c2'],
      ],
    );
  });

  const FILTERS: readonly [string, string[]][] = [
    ['?pool=eu', ['eu-0']],
    ['?geo=US', ['us-0', 'us-1']],
    ['?geo=de', ['eu-0']],
    ['?geo=NON_US', ['eu-0']],
    ['?state=missing', ['us-1']],
    ['?pool=us&state=running', ['us-0']],
    ['?pool=none', []],
  ];
  for (const [query, names] of FILTERS) {
    test(`GET /proxies${query}`, async () => {
      const { json } = await get(`/proxies${query}`);
      assert.deepEqual(
        (json.proxies as { name: string }[]).map((p) => p.name),
        names,
      );
    });
  }

  test('GET /proxies/{name}, and a JSON 404 for an unknown one or route', async () => {
    assert.equal((await get('/proxies/us-1')).json.state, 'missing');
    const missing = await get('/proxies/nope');
    assert.deepEqual(
      [missing.status, missing.json],
      [404, { error: { code: 'not_found', message: 'no proxy named "nope" in the fleet' } }],
    );
    const route = await get('/nope');
    assert.equal(route.status, 404);
    assert.equal((route.json.error as { code: string }).code, 'not_found');
  });

  test('writes answer 405 with Allow and say that git is the only writer', async () => {
    for (const [method, path] of [
      ['POST', '/proxies'],
      ['DELETE', '/proxies/us-0'],
      ['PUT', '/status'],
      ['PATCH', '/nodes'],
    ] as const) {
      const { status: code, headers, json } = await get(path, { method });
      assert.equal(code, 405, `${method} ${path}`);
      assert.equal(headers.get('allow'), 'GET, HEAD');
      assert.match((json.error as { message: string }).message, /committing fleet\/fleet\.yaml/);
    }
  });

  test('GET /nodes and /status', async () => {
    assert.deepEqual((await get('/nodes')).json, {
      exits: { US: 2, NON_US: 1 },
      relays: 10,
      relays_published: '2026-11-22T00:00:00.000Z',
      refreshed_at: '2026-11-22T00:05:00.000Z',
      stale: false,
    });
    const { json } = await get('/status');
    assert.equal(json.lastAppliedRevision, 'abc123');
    assert.deepEqual(json.nodes, (await get('/nodes')).json);
  });

  test('a refused node snapshot shows in /nodes, /status and /metrics, and matches the schemas', async () => {
    const metric = async (): Promise<string | undefined> =>
      /^torfleet_node_snapshot_refused (\d)$/m.exec(await (await fetch(`${base}/metrics`)).text())?.[1];
    assert.equal(await metric(), '0');
    stats = {
      ...STATS,
      lastRefusal: {
        at: '2026-11-22T01:00:00.000Z',
        reason: 'exit_drop',
        message: 'US would lose 2 of its 2 eligible exits',
        relaysPublished: '2026-11-22T00:55:00.000Z',
      },
    };
    try {
      const nodes = (await get('/nodes')).json;
      assert.deepEqual(nodes.last_refusal, {
        at: '2026-11-22T01:00:00.000Z',
        reason: 'exit_drop',
        message: 'US would lose 2 of its 2 eligible exits',
        relays_published: '2026-11-22T00:55:00.000Z',
      });
      assert.deepEqual(schemaErrors('nodes', nodes), []);
      const statusBody = (await get('/status')).json;
      assert.deepEqual(statusBody.nodes, nodes);
      assert.deepEqual(schemaErrors('status', statusBody), []);
      assert.equal(await metric(), '1');
    } finally {
      stats = STATS;
    }
  });

  test('/healthz is alive; /readyz waits for a first pass', async () => {
    assert.equal((await get('/healthz')).status, 200);
    assert.equal((await get('/readyz')).status, 503);
    status = {
      ...status,
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
    };
    assert.equal((await get('/readyz')).status, 200);
  });

  test('every answer matches its JSON Schema in schemas/api', async () => {
    const CASES: readonly [string, Parameters<typeof schemaErrors>[0]][] = [
      ['/proxies', 'proxies'],
      ['/proxies?state=missing', 'proxies'],
      ['/proxies/us-0', 'proxy'],
      ['/status', 'status'],
      ['/nodes', 'nodes'],
      ['/proxies/nope', 'error'],
      ['/nope', 'error'],
    ];
    for (const [path, schema] of CASES) assert.deepEqual(schemaErrors(schema, (await get(path)).json), [], path);
    assert.deepEqual(schemaErrors('error', (await get('/proxies', { method: 'POST' })).json), []);
  });

  test('no answer carries the proxy credential', async () => {
    for (const path of ['/proxies', '/proxies/us-0', '/status', '/nodes']) {
      const text = await (await fetch(`${base}${path}`)).text();
      assert.ok(!text.includes(SECRET), path);
    }
  });

  test('/metrics: every contract metric, labels initialised, route templates, and promtool finds nothing', async () => {
    await fetch(`${base}/proxies/abc`);
    await fetch(`${base}/proxies/def`);
    const text = await (await fetch(`${base}/metrics`)).text();
    for (const series of [
      'torfleet_active_proxy_containers{geo_category="US"} 1',
      'torfleet_active_proxy_containers{geo_category="NON_US"} 0',
      'torfleet_desired_proxies{geo_category="US"} 2',
      'torfleet_desired_proxies{geo_category="NON_US"} 1',
      'torfleet_available_tor_exit_nodes{geo_category="US"} 2',
      'torfleet_node_refresh_timestamp_seconds 1795305900',
      'torfleet_nodes_relays_published_timestamp_seconds 1795305600',
      'torfleet_reconcile_total{result="failed"} 0',
      'torfleet_plan_changes{action="create"} 3',
      'torfleet_fleet_info{revision="abc123"} 1',
      'http_request_duration_seconds_count{method="GET",route="/status"}',
      'process_resident_memory_bytes',
    ]) {
      assert.ok(text.includes(series), `missing ${series}`);
    }
    assert.match(text, /^http_requests_total\{method="GET",route="\/proxies\/\{name\}",status="404"\} [1-9]\d*$/m);
    assert.ok(!text.includes('/proxies/abc'), 'a raw path became a label');
    const child = run('promtool', ['check', 'metrics']);
    child.child.stdin?.end(text);
    const { stdout, stderr } = await child;
    assert.equal(`${stdout}${stderr}`.trim(), '');
  });
});

describe('API token', () => {
  test('with a token, routes need it (compared in constant time); /healthz and /readyz stay open', async () => {
    const { base, close } = await serve('s3cret-token');
    try {
      assert.equal((await fetch(`${base}/proxies`)).status, 401);
      assert.equal((await fetch(`${base}/proxies`, { headers: { authorization: 'Bearer wrong' } })).status, 401);
      assert.equal((await fetch(`${base}/proxies`, { headers: { authorization: 'Bearer s3cret-token' } })).status, 200);
      assert.equal((await fetch(`${base}/metrics`)).status, 401);
      assert.equal((await fetch(`${base}/healthz`)).status, 200);
    } finally {
      await close();
    }
  });
});
