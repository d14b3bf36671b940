import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bodiless, clientKeepsAlive, retryable } from './keep-alive-rules.js';

test('clientKeepsAlive: HTTP/1.1 unless close, HTTP/1.0 only with keep-alive', () => {
  const cases: [string, string | undefined, boolean][] = [
    ['1.1', undefined, true],
    ['1.1', 'keep-alive', true],
    ['1.1', 'close', false],
    ['1.1', 'Keep-Alive, Close', false],
    ['1.1', 'upgrade', true],
    ['1.0', undefined, false],
    ['1.0', 'keep-alive', true],
    ['1.0', ' KEEP-ALIVE ', true],
    ['1.0', 'keep-alive, close', false],
    ['0.9', 'keep-alive', false],
  ];
  for (const [version, connection, expected] of cases) {
    assert.equal(clientKeepsAlive(version, connection), expected, `HTTP/${version} Connection: ${connection}`);
  }
});

test('retryable: idempotent methods without a body only', () => {
  const cases: [string | undefined, Record<string, string>, boolean][] = [
    ['GET', {}, true],
    ['HEAD', {}, true],
    ['OPTIONS', {}, true],
    ['DELETE', { 'content-length': '0' }, true],
    ['PUT', {}, true],
    ['PUT', { 'content-length': '5' }, false],
    ['GET', { 'transfer-encoding': 'chunked' }, false],
    ['POST', {}, false],
    ['PATCH', {}, false],
    ['CONNECT', {}, false],
    [undefined, {}, false],
  ];
  for (const [method, headers, expected] of cases) {
    assert.equal(retryable(method, headers), expected, `${method} ${JSON.stringify(headers)}`);
  }
  assert.equal(bodiless({ 'content-length': '12' }), false);
  assert.equal(bodiless({}), true);
});
