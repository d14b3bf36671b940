import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { mapContainer, stateOf } from './map-container.js';

const LABELS = {
  'torfleet.managed': 'true',
  'torfleet.pool': 'us',
  'torfleet.proxy': 'us-0',
  'torfleet.spec-hash': 'abc',
  'torfleet.revision': 'r1',
  'torfleet.exits': 'AAAA,BBBB',
};

describe('mapContainer', () => {
  const CASES: readonly [string, Parameters<typeof mapContainer>[0], ReturnType<typeof mapContainer>][] = [
    [
      'a managed running container',
      { Id: 'c1', Labels: LABELS, State: 'running', Created: 1_700_000_000 },
      {
        name: 'us-0',
        pool: 'us',
        id: 'c1',
        state: 'running',
        specHash: 'abc',
        exitFingerprints: ['AAAA', 'BBBB'],
        revision: 'r1',
        startedAt: '2023-11-14T22:13:20.000Z',
      },
    ],
    [
      'a rotating proxy (no exits) that exited',
      { Id: 'c2', Labels: { ...LABELS, 'torfleet.exits': '' }, State: 'exited' },
      {
        name: 'us-0',
        pool: 'us',
        id: 'c2',
        state: 'stopped',
        specHash: 'abc',
        exitFingerprints: [],
        revision: 'r1',
        startedAt: null,
      },
    ],
    ['not managed', { Id: 'c3', Labels: { ...LABELS, 'torfleet.managed': 'false' }, State: 'running' }, undefined],
    ['no labels at all', { Id: 'c4', Labels: null, State: 'running' }, undefined],
    [
      'managed but without a proxy name',
      { Id: 'c5', Labels: { 'torfleet.managed': 'true', 'torfleet.pool': 'x' } },
      undefined,
    ],
  ];
  for (const [name, container, expected] of CASES) {
    test(name, () => {
      assert.deepEqual(mapContainer(container), expected);
    });
  }
  test('states', () => {
    assert.deepEqual(['running', 'restarting', 'created', 'exited', 'dead', 'paused', undefined].map(stateOf), [
      'running',
      'restarting',
      'stopped',
      'stopped',
      'stopped',
      'stopped',
      'stopped',
    ]);
  });
});
