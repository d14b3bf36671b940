import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { packagePath } from '../package-root.js';
import { runTorfleet } from '../testing/run-cli.js';
import { tempDir } from '../testing/temp-dir.js';

/** `torfleet validate` on the inputs of issue 8 (items 3, 5 and 9), run as a user runs it. */
const dir = tempDir('validate-hardening');
const noDb = { TORFLEET_DB: path.join(dir, 'none.db') };
const HEAD = 'apiVersion: torfleet/v1\nkind: Fleet\n';
const AUTHORITY =
  'auth1 orport=5001 v3ident=0123456789ABCDEF0123456789ABCDEF01234567 127.0.0.2:7001 89ABCDEF0123456789ABCDEF0123456789ABCDEF';
const POOL = 'pools:\n  - {name: p, geo: US, mode: strict, count: 1, basePort: 19050}\n';

let files = 0;
async function validate(text: string, env: Record<string, string> = {}, args: string[] = []) {
  const file = path.join(dir, `fleet-${files++}.yaml`);
  writeFileSync(file, text);
  return runTorfleet(['validate', ...args, file], { ...noDb, ...env });
}

describe('validate shows values from the environment as [from ${NAME}]', () => {
  const text = `${HEAD}tor:\n  httpsProxy: "\${PROXY_AUTH}"\n  testingNetwork: "\${PROXY_AUTH}"\npools: []\n`;
  for (const args of [[], ['--json']]) {
    test(`the issue's fleet ${args.join(' ')}`, async () => {
      const result = await validate(text, { PROXY_AUTH: 'user:s3cret' }, args);
      assert.equal(result.code, 1);
      const shown = result.stdout + result.stderr;
      assert.ok(!shown.includes('s3cret'), shown);
      assert.match(shown, /expected a mapping or null, got string \[from \$\{PROXY_AUTH\}\]/);
    });
  }
});

describe('validate refuses what tor or the host should never see', () => {
  const CASES: readonly { name: string; text: string; says: RegExp }[] = [
    {
      name: 'a DirAuthority ipv6 port above 65535',
      text: `${HEAD}tor:\n  dirAuthorities:\n    - "${AUTHORITY.replace('orport=5001', 'orport=5001 ipv6=[::1]:99999')}"\n${POOL}`,
      says: /:5:7: tor\.dirAuthorities\[0\]: ipv6=\[::1\]:99999 is not an \[IPV6\]:PORT address/,
    },
    {
      name: 'an IPv4 HTTPS proxy in brackets',
      text: `${HEAD}tor:\n  httpsProxy: {address: "[1.2.3.4]:3128"}\n${POOL}`,
      says: /tor\.httpsProxy\.address: "\[1\.2\.3\.4\]:3128" is not an IP address and port/,
    },
    {
      name: 'geoipFile /dev/zero',
      text: `${HEAD}tor:\n  geoipFile: /dev/zero\n${POOL}`,
      says: /tor\.geoipFile: the GeoIP file is a device, not a regular file/,
    },
    {
      name: 'clashing binds in two spellings',
      text: `${HEAD}pools:\n  - {name: a, geo: US, mode: strict, count: 2, basePort: 19050, bind: "::1"}\n  - {name: b, geo: US, mode: strict, count: 2, basePort: 19051, bind: "0:0:0:0:0:0:0:1"}\n`,
      says: /pools\[1\]\.basePort: ports 19051-19052 overlap ports 19050-19051 of pool "a"/,
    },
  ];
  for (const c of CASES) {
    test(c.name, async () => {
      const result = await validate(c.text);
      assert.equal(result.code, 1, result.stdout);
      assert.match(result.stderr, c.says);
    });
  }
  test('a valid fleet is checked by tor --verify-config when tor is on the PATH', async () => {
    const result = await runTorfleet(['validate', packagePath('fleet', 'fleet.yaml')], noDb);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /\ntorrc of each pool checked with \S*tor --verify-config\n$/);
  });
  test('without tor on the PATH, validate says the torrcs were not checked', async () => {
    const result = await runTorfleet(['validate', packagePath('fleet', 'fleet.yaml')], {
      ...noDb,
      PATH: '/nonexistent',
    });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /torrcs not checked: tor is not on the PATH/);
  });
  test('a GeoIP file missing here is a warning: validate may run away from the reconciler', async () => {
    const result = await validate(`${HEAD}tor:\n  geoipFile: ${dir}/not-here\n${POOL}`);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /warning: cannot read the GeoIP file here \(ENOENT\)/);
  });
});

describe('validate output stays short, one line per problem, and free of control characters', () => {
  test('790 levels of nesting: a located message, no stack overflow', async () => {
    const result = await validate(`${HEAD}pools: []\nx: ${'['.repeat(790)}${']'.repeat(790)}\n`);
    assert.equal(result.code, 1);
    assert.doesNotMatch(result.stderr, /Maximum call stack/);
    assert.match(result.stderr, /:4:23: yaml: collections nested deeper than 20 levels/);
  });
  test('an unclosed [: the first ten errors and a count', async () => {
    const pools = Array.from({ length: 200 }, (_, i) => `  - name: p${i}\n    count: 1\n`).join('');
    const result = await validate(`${HEAD}pools: [\n${pools}`);
    assert.equal(result.code, 1);
    const lines = result.stderr.trim().split('\n');
    assert.equal(lines.length, 11, result.stderr.slice(0, 3000));
    assert.match(lines[10] ?? '', /and \d+ more yaml error\(s\)/);
  });
  test('a collection as a key: an error, and no warning from the yaml library', async () => {
    const result = await validate(`${HEAD}pools: []\nx: {[a]: 1}\n`);
    assert.equal(result.code, 1);
    assert.doesNotMatch(result.stderr, /Keys with collection values|Warning/);
    assert.match(result.stderr, /a key must be a plain value/);
  });
  test('a key with a newline, an ESC sequence and U+202E is one escaped line', async () => {
    const text = `${HEAD}pools:\n  - name: p\n    geo: US\n    mode: strict\n    count: 1\n    basePort: 19050\n    "bind\\nExitNodes *": 1\n    "\\e[2J\\u202Ex": 2\n`;
    const result = await validate(text);
    assert.equal(result.code, 1);
    assert.equal(result.stderr.trim().split('\n').length, 2, result.stderr);
    assert.doesNotMatch(result.stderr, /\p{Cc}(?<!\n)|[\u202A-\u202E]/u);
    assert.match(result.stderr, /unknown key "bind\\nExitNodes \*"/);
  });
});
