import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import { MAX_CLIENTS, parseClientTokens } from './client-tokens.js';

const sha = (token: string): string => createHash('sha256').update(token).digest('hex');
const FILE = 'tokens.txt';

function errorsOf(text: string): readonly string[] {
  const parsed = parseClientTokens(FILE, text);
  if (parsed.ok) assert.fail(`accepted: ${JSON.stringify(text.slice(0, 80))}`);
  return parsed.errors;
}

describe('parseClientTokens', () => {
  test('clients by token; comments, blank lines, upper-case hex and CRLF are fine', () => {
    const text = `# collectors\r\ncollector-1 ${sha('alpha')}\r\n\r\n  collector.2\t${sha('beta').toUpperCase()}  # eu\n`;
    const parsed = parseClientTokens(FILE, text);
    assert.ok(parsed.ok);
    assert.deepEqual(parsed.tokens.names, ['collector-1', 'collector.2']);
    const cases: ReadonlyArray<[string | null | undefined, string | null]> = [
      ['alpha', 'collector-1'],
      ['beta', 'collector.2'],
      ['gamma', null],
      ['', null],
      [null, null],
      [undefined, null],
      [sha('alpha'), null], // the digest itself is not the token
    ];
    for (const [presented, want] of cases) assert.equal(parsed.tokens.identify(presented), want, String(presented));
  });

  const refusals: ReadonlyArray<{ name: string; text: string; error: RegExp }> = [
    {
      name: 'a token in clear',
      text: 'c1 s3cret-token\n',
      error: /^tokens\.txt:1: client "c1": .*SHA-256 in hex.*sha256sum/,
    },
    {
      name: 'one field',
      text: `\n${sha('a')}\n`,
      error: /^tokens\.txt:2: expected "CLIENT_NAME SHA256_HEX_OF_TOKEN", found 1/,
    },
    { name: 'three fields', text: `c1 ${sha('a')} extra\n`, error: /^tokens\.txt:1: .*found 3 field/ },
    { name: 'a bad name', text: `-c1 ${sha('a')}\n`, error: /^tokens\.txt:1: client name "-c1": use letters/ },
    { name: 'a control character in the name', text: `c\u00011 ${sha('a')}\n`, error: /client name "c\\u\{1\}1"/ },
    {
      name: 'a duplicate client',
      text: `c1 ${sha('a')}\nc1 ${sha('b')}\n`,
      error: /^tokens\.txt:2: client "c1" is already on line 1/,
    },
    { name: 'no client at all', text: '# nothing yet\n\n', error: /^tokens\.txt: no client: add a line/ },
    { name: 'a 63-character digest', text: `c1 ${sha('a').slice(1)}\n`, error: /SHA-256 in hex/ },
  ];
  for (const { name, text, error } of refusals) {
    test(`refused: ${name}`, () => {
      const errors = errorsOf(text);
      assert.equal(errors.length, 1, errors.join('\n'));
      assert.match(errors[0] ?? '', error);
    });
  }

  test('every bad line is reported, not only the first; the secret never appears in an error', () => {
    const errors = errorsOf('c1 plain-secret-1\nc2 plain-secret-2\n');
    assert.equal(errors.length, 2);
    assert.doesNotMatch(errors.join('\n'), /plain-secret/);
  });

  test(`more than ${MAX_CLIENTS} clients is refused`, () => {
    const lines = Array.from({ length: MAX_CLIENTS + 1 }, (_, i) => `c${i} ${'a'.repeat(64)}`).join('\n');
    assert.match(errorsOf(lines).at(-1) ?? '', /10001 clients; at most 10000/);
  });
});
