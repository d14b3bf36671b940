import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { EligibleExit } from '../nodes/eligible-exit.js';
import { computePlan } from '../plan/compute-plan.js';
import type { ObservedProxy, Plan } from '../plan/plan-types.js';
import { parseFleet } from './load-fleet.js';

const FLEET = `apiVersion: torfleet/v1
kind: Fleet
tor:
  disableNetwork: true
pools:
  - name: us
    geo: US
    mode: strict
    count: 2
    basePort: 20000
  - name: eu
    geo: [DE, NL]
    mode: rotating
    count: 1
    basePort: 20100
`;
const GATEWAY = `gateway:
  listen: 0.0.0.0:8888
  token: \${T}
  default: us
  upstreams:
    - name: prov
      url: socks5://203.0.113.7:1080
      auth: \${A}
  corporate:
    address: 192.0.2.10:3128
    auth: \${A}
`;
const ENV = { T: 'tok-0123456789abcdef', A: 'bob:hunter22' };

const EXITS: readonly EligibleExit[] = [1, 2, 3].map((n) => ({
  fingerprint: n.toString(16).toUpperCase().padStart(40, '0'),
  nickname: `exit${n}`,
  address: `10.${n}.0.1`,
  country: n === 3 ? 'DE' : 'US',
  network: `10.${n}.0.0/16`,
}));

function planOf(text: string, observed: readonly ObservedProxy[] = []): Plan {
  const { fleet } = parseFleet('fleet.yaml', text, { env: ENV });
  return computePlan({ fleet, revision: 'r1', exits: EXITS, observed, containerShape: 'shape' });
}

describe('the gateway section is not part of any proxy', () => {
  test('the same fleet with and without a gateway section: the same plan and spec hashes', () => {
    const without = planOf(FLEET);
    const withGateway = planOf(FLEET + GATEWAY);
    assert.equal(without.changes.length, 3);
    assert.deepEqual(withGateway, without);
  });
  test('proxies running as planned without a gateway section stay untouched when one is added', () => {
    const first = planOf(FLEET);
    const observed: ObservedProxy[] = first.changes.map((change, i) => ({
      name: change.proxy,
      pool: change.pool,
      id: `c${i}`,
      state: 'running',
      specHash: change.after?.specHash ?? '',
      exitFingerprints: change.after?.exits.fingerprints ?? [],
      revision: 'r1',
      startedAt: null,
    }));
    assert.deepEqual(
      planOf(FLEET + GATEWAY, observed).changes.map((c) => c.action),
      ['noop', 'noop', 'noop'],
    );
  });
});
