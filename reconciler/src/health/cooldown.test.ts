import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { cooldownMs, type CooldownSettings } from './cooldown.js';

const GATEWAY: CooldownSettings = { baseCooldownMs: 1_000, maxCooldownMs: 60_000, jitterRatio: 0.2 };
const BROKER: CooldownSettings = { baseCooldownMs: 30_000, maxCooldownMs: 600_000, jitterRatio: 0.2 };

describe('cooldown: base doubling per ejection in a row, capped, shortened by jitter', () => {
  const cases: { name: string; settings: CooldownSettings; before: number; random: number; ms: number }[] = [
    { name: 'first ejection: the base', settings: GATEWAY, before: 0, random: 0, ms: 1_000 },
    { name: 'second: doubled', settings: GATEWAY, before: 1, random: 0, ms: 2_000 },
    { name: 'sixth: 32 s', settings: GATEWAY, before: 5, random: 0, ms: 32_000 },
    { name: 'seventh: capped at 60 s', settings: GATEWAY, before: 6, random: 0, ms: 60_000 },
    { name: 'a thousand in a row: still the cap', settings: GATEWAY, before: 1_000, random: 0, ms: 60_000 },
    { name: 'jitter 0.5: 10 % shorter', settings: GATEWAY, before: 0, random: 0.5, ms: 900 },
    { name: 'jitter near 1: at most 20 % shorter', settings: GATEWAY, before: 0, random: 0.999, ms: 800 },
    { name: 'jitter applies to the cap too', settings: GATEWAY, before: 9, random: 0.5, ms: 54_000 },
    { name: 'broker: 30 s first', settings: BROKER, before: 0, random: 0, ms: 30_000 },
    { name: 'broker: 4th is 240 s', settings: BROKER, before: 3, random: 0, ms: 240_000 },
    { name: 'broker: 5th is 480 s', settings: BROKER, before: 4, random: 0, ms: 480_000 },
    { name: 'broker: 6th capped at 10 min', settings: BROKER, before: 5, random: 0, ms: 600_000 },
    { name: 'broker: 6th, jittered by 0.25', settings: BROKER, before: 5, random: 0.25, ms: 570_000 },
    { name: 'a negative count is the first', settings: BROKER, before: -1, random: 0, ms: 30_000 },
  ];
  for (const { name, settings, before, random, ms } of cases) {
    test(`${name} (${before} before, random ${random}) → ${ms} ms`, () => {
      assert.equal(cooldownMs(settings, before, random), ms);
    });
  }
});
