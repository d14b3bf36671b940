import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ExchangeRecords } from './exchange-records.js';
import { DEFAULT_BROKER_HEALTH } from './health-settings.js';

const settings = DEFAULT_BROKER_HEALTH; // 3 proxies within 2 min; blocks 30 s doubling to 10 min

describe('exchange-records: failures through 3 different proxies within 2 min are the exchange', () => {
  const cases: { name: string; failures: [number, string][]; theExchange: boolean[] }[] = [
    {
      name: 'one proxy, many failures: its own',
      failures: [
        [0, 'a'],
        [1, 'a'],
        [2, 'a'],
        [3, 'a'],
      ],
      theExchange: [false, false, false, false],
    },
    {
      name: 'two proxies: theirs',
      failures: [
        [0, 'a'],
        [1, 'b'],
        [2, 'a'],
        [3, 'b'],
      ],
      theExchange: [false, false, false, false],
    },
    {
      name: 'the third proxy: the exchange',
      failures: [
        [0, 'a'],
        [1, 'b'],
        [2, 'c'],
      ],
      theExchange: [false, false, true],
    },
    {
      name: 'and so on while it keeps failing',
      failures: [
        [0, 'a'],
        [1, 'b'],
        [2, 'c'],
        [3, 'a'],
      ],
      theExchange: [false, false, true, true],
    },
    {
      name: 'the first failure 2 min before the third: out of the window',
      failures: [
        [0, 'a'],
        [1, 'b'],
        [120_000, 'c'],
      ],
      theExchange: [false, false, false],
    },
    {
      name: 'just inside the window',
      failures: [
        [0, 'a'],
        [1, 'b'],
        [119_999, 'c'],
      ],
      theExchange: [false, false, true],
    },
    {
      name: 'a repeat moves a proxy forward in the window',
      failures: [
        [0, 'a'],
        [50_000, 'b'],
        [100_000, 'a'],
        [150_000, 'c'],
      ],
      theExchange: [false, false, false, true],
    },
    {
      name: 'many proxies long ago do not count',
      failures: [
        [0, 'a'],
        [0, 'b'],
        [0, 'c'],
        [0, 'd'],
        [200_000, 'e'],
        [200_001, 'f'],
      ],
      theExchange: [false, false, true, true, false, false],
    },
  ];
  for (const { name, failures, theExchange } of cases) {
    test(name, () => {
      const records = new ExchangeRecords(settings);
      assert.deepEqual(
        failures.map(([at, proxy]) => records.failure('binance', proxy, at)),
        theExchange,
      );
    });
  }
  test('exchanges are counted apart', () => {
    const records = new ExchangeRecords(settings);
    records.failure('binance', 'a', 0);
    records.failure('kraken', 'b', 0);
    assert.equal(records.failure('coinbase', 'c', 0), false);
  });
});

describe('exchange-records: a block keeps a proxy from that exchange only, 30 s doubling', () => {
  test('blocked for 30 s there, not elsewhere', () => {
    const records = new ExchangeRecords(settings);
    assert.equal(records.block('binance', 'a', 0, 0), 30_000);
    assert.deepEqual([records.blocked('binance', 'a', 29_999), records.blocked('binance', 'a', 30_000)], [true, false]);
    assert.equal(records.blocked('kraken', 'a', 0), false);
    assert.equal(records.blocked('binance', 'b', 0), false);
  });
  test('blocks in a row double up to 10 min, jittered; a success there forgets them', () => {
    const records = new ExchangeRecords(settings);
    const ladder = [0, 1, 2, 3, 4, 5, 6].map((i) => records.block('binance', 'a', i * 1_000_000, 0));
    assert.deepEqual(ladder, [30_000, 60_000, 120_000, 240_000, 480_000, 600_000, 600_000]);
    assert.equal(records.block('binance', 'a', 0, 0.5), 540_000);
    records.success('binance', 'a');
    assert.equal(records.blocked('binance', 'a', 1), false);
    assert.equal(records.block('binance', 'a', 0, 0), 30_000);
  });
  test("the exchange rule lifts the exchange's blocks", () => {
    const records = new ExchangeRecords(settings);
    records.block('binance', 'a', 0, 0);
    records.failure('binance', 'a', 0);
    records.block('binance', 'b', 0, 0);
    records.failure('binance', 'b', 0);
    assert.equal(records.failure('binance', 'c', 0), true);
    assert.deepEqual([records.blocked('binance', 'a', 1), records.blocked('binance', 'b', 1)], [false, false]);
  });
});

describe('exchange-records: bounded memory', () => {
  test('10k distinct exchange ids: at most maxExchanges kept, the oldest forgotten', () => {
    const records = new ExchangeRecords({ ...settings, maxExchanges: 100 });
    for (let i = 0; i < 10_000; i++) records.block(`exchange-${i}`, 'a', 0, 0);
    assert.equal(records.size, 100);
    assert.deepEqual([records.blocked('exchange-9999', 'a', 1), records.blocked('exchange-0', 'a', 1)], [true, false]);
  });
  test('blocks per exchange: at most maxBlocksPerExchange, the oldest forgotten', () => {
    const records = new ExchangeRecords({ ...settings, maxBlocksPerExchange: 2 });
    for (const proxy of ['a', 'b', 'c']) records.block('binance', proxy, 0, 0);
    assert.deepEqual(
      ['a', 'b', 'c'].map((proxy) => records.blocked('binance', proxy, 1)),
      [false, true, true],
    );
  });
  test('failures per exchange: the last through 3 proxies are enough, and all that is kept', () => {
    const records = new ExchangeRecords(settings);
    for (let i = 0; i < 10_000; i++) records.failure('binance', `p${i}`, i * 1_000_000);
    assert.equal(records.failure('binance', 'x', 1e10), false, 'the old ones are out of the window');
  });
});
