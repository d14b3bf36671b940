import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { DURATION_PATTERN, parseDuration } from './duration.js';
import { FLEET_SCHEMA_PATH } from './fleet/fleet-schema-path.js';
import { parseDurationSetting } from './setting-values.js';

describe('parseDuration: the one duration grammar', () => {
  const CASES: readonly [string, number | undefined][] = [
    ['90s', 90_000],
    ['15m', 900_000],
    ['3h', 10_800_000],
    ['2d', 172_800_000],
    ['999999s', 999_999_000],
    ['1000000s', undefined],
    ['0s', undefined],
    ['05m', undefined],
    ['10', undefined],
    ['10 minutes', undefined],
    ['1.5h', undefined],
    ['-1s', undefined],
    ['1w', undefined],
    ['1H', undefined],
    ['', undefined],
  ];
  for (const [text, expected] of CASES) {
    test(`"${text}" → ${String(expected)}`, () => {
      assert.equal(parseDuration(text), expected);
    });
  }

  test('a setting outside the grammar is refused by name, with examples', () => {
    assert.throws(
      () => parseDurationSetting('TORFLEET_FETCH_INTERVAL', '10 minutes'),
      /TORFLEET_FETCH_INTERVAL is "10 minutes"; use a duration such as 90s, 15m, 3h or 2d/,
    );
  });

  test("the fleet schema's rotateEvery pattern is this grammar", () => {
    const schema = JSON.parse(readFileSync(FLEET_SCHEMA_PATH, 'utf8')) as {
      $defs: { pool: { properties: { rotateEvery: { pattern: string } } } };
    };
    assert.equal(schema.$defs.pool.properties.rotateEvery.pattern, DURATION_PATTERN.source);
  });
});
