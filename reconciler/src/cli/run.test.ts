import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import Docker from 'dockerode';
import { schemaErrors } from '../testing/api-schemas.js';
import { removeTestContainers } from '../testing/docker-cleanup.js';
import { cleanEnv, TORFLEET_BIN } from '../testing/run-cli.js';
import { sharedConsensusFile, sharedGeoIpFile } from '../testing/shared-data.js';
import { tempDir } from '../testing/temp-dir.js';
import { waitFor } from '../wait-for.js';

/**
 * `torfleet run` as a service: a real bare git repository as the fleet source, the real Docker engine,
 * proxies with DisableNetwork 1. Status is read from its structured logs (the HTTP API comes later).
 */
const docker = new Docker();
const ID = `test-run${process.pid.toString(36)}`;
const dir = tempDir('run');
const bare = path.join(dir, 'fleet.git');
const work = path.join(dir, 'work');
const PORT = 23000; // this file's own port block (see process-runtime.test.ts)
const API = `127.0.0.1:${PORT + 9}`;

async function get(route: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`http://${API}${route}`);
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

const git = (...args: string[]): string =>
  execFileSync('git', ['-c', 'user.email=ci@torfleet.test', '-c', 'user.name=ci', ...args], {
    cwd: work,
    encoding: 'utf8',
  });

function commit(fleet: string, message: string): string {
  writeFileSync(path.join(work, 'fleet', 'fleet.yaml'), fleet);
  git('commit', '-qam', message);
  git('push', '-q', 'origin', 'HEAD:main');
  return git('rev-parse', 'HEAD').trim();
}

function fleet(usCount: number, mode = 'strict'): string {
  return `apiVersion: torfleet/v1\nkind: Fleet\ntor:\n  disableNetwork: true\npools:\n  - name: ${ID}-us\n    geo: US\n    mode: ${mode}\n    count: ${usCount}\n    basePort: ${PORT}\n  - name: ${ID}-eu\n    geo: [DE]\n    mode: rotating\n    count: 1\n    basePort: ${PORT + 5}\n`;
}

interface LogLine {
  msg: string;
  [field: string]: unknown;
}

let service: ChildProcess;
const logs: LogLine[] = [];

async function containers(): Promise<Map<string, { id: string; state: string; exits: string }>> {
  const list = await docker.listContainers({ all: true, filters: { label: [`torfleet.instance=${ID}`] } });
  return new Map(
    list.map((c) => [
      c.Labels['torfleet.proxy'] ?? '',
      { id: c.Id, state: c.State, exits: c.Labels['torfleet.exits'] ?? '' },
    ]),
  );
}

const passFor = (revision: string, outcome: string) => (): LogLine | undefined =>
  logs.find((l) => l.msg === 'pass finished' && l.revision === revision && l.outcome === outcome);

describe('torfleet run (git repository + Docker)', { concurrency: false }, () => {
  before(async () => {
    await removeTestContainers(docker, ID);
    execFileSync('git', ['init', '-q', '--bare', '-b', 'main', bare]);
    execFileSync('git', ['clone', '-q', bare, work], { stdio: 'ignore' });
    mkdirSync(path.join(work, 'fleet'));
    writeFileSync(path.join(work, 'fleet', 'fleet.yaml'), fleet(1));
    git('add', '.');
  });
  after(async () => {
    service.kill('SIGKILL');
    await removeTestContainers(docker, ID);
  });

  let first = '';
  test('a pushed fleet is applied, and the revision recorded is the commit', async () => {
    git('commit', '-qm', 'first fleet');
    git('push', '-q', 'origin', 'HEAD:main');
    first = git('rev-parse', 'HEAD').trim();
    service = spawn(process.execPath, [TORFLEET_BIN, 'run'], {
      env: cleanEnv({
        TORFLEET_INSTANCE: ID,
        TORFLEET_FLEET_REPO: bare,
        TORFLEET_DB: path.join(dir, 'nodes.db'),
        TORFLEET_STATE_DIR: path.join(dir, 'state'),
        TORFLEET_NODE_SOURCE: 'consensus',
        TORFLEET_CONSENSUS_URL: sharedConsensusFile,
        TORFLEET_GEOIP_FILE: sharedGeoIpFile,
        TORFLEET_RESYNC_INTERVAL: '60s',
        TORFLEET_FETCH_INTERVAL: '60s',
        TORFLEET_LISTEN: API,
      }),
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let buffered = '';
    service.stderr?.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) logs.push(JSON.parse(line) as LogLine);
    });
    await waitFor('the first pass to converge', passFor(first, 'converged'));
    const running = await containers();
    assert.deepEqual([...running.keys()].sort(), [`${ID}-eu-0`, `${ID}-us-0`]);
    const labels = (await docker.getContainer(running.get(`${ID}-us-0`)?.id ?? '').inspect()).Config.Labels;
    assert.equal(labels['torfleet.revision'], first);
    const proxies = await get('/proxies');
    assert.deepEqual(schemaErrors('proxies', proxies.body), []);
    assert.equal(proxies.body.revision, first);
    const views = proxies.body.proxies as { name: string; state: string; containerId: string }[];
    assert.deepEqual(
      views.map((v) => [v.name, v.state, v.containerId]),
      [
        [`${ID}-us-0`, 'running', running.get(`${ID}-us-0`)?.id],
        [`${ID}-eu-0`, 'running', running.get(`${ID}-eu-0`)?.id],
      ],
    );
  });

  test('a commit is seen at once (the local repository is watched) and only adds what changed', async () => {
    const before = await containers();
    const second = commit(fleet(2), 'scale us to 2');
    await waitFor('the commit to be applied', passFor(second, 'converged'), 10_000);
    const after = await containers();
    assert.equal(after.get(`${ID}-us-1`)?.state, 'running');
    assert.equal(after.get(`${ID}-us-0`)?.id, before.get(`${ID}-us-0`)?.id);
    assert.equal(logs.find((l) => l.msg === 'pass finished' && l.revision === second)?.trigger, 'commit');
  });

  test('an invalid commit stalls with the located error and changes nothing', async () => {
    const before = await containers();
    const bad = commit(fleet(2, 'strickt'), 'typo');
    const stalled = await waitFor('the stalled pass', passFor(bad, 'stalled'), 10_000);
    assert.equal(stalled.reason, 'InvalidFleet');
    const status = await get('/status');
    assert.deepEqual(schemaErrors('status', status.body), []);
    const conditions = status.body.conditions as { type: string; status: string; reason: string }[];
    assert.deepEqual(
      conditions.find((c) => c.type === 'Stalled'),
      { ...conditions.find((c) => c.type === 'Stalled'), status: 'True', reason: 'InvalidFleet' },
    );
    assert.equal(status.body.lastAttemptedRevision, bad);
    assert.notEqual(status.body.lastAppliedRevision, bad);
    assert.match(
      String(stalled.message),
      new RegExp(`fleet/fleet\\.yaml@${bad.slice(0, 12)}:8:11: pools\\[0\\]\\.mode: "strickt" is not one of`),
    );
    assert.deepEqual(await containers(), before);
  });

  test('a fixing commit recovers by itself without restarting untouched proxies', async () => {
    const before = await containers();
    const fixed = commit(fleet(2), 'fix the typo');
    await waitFor('the fixing commit', passFor(fixed, 'converged'), 10_000);
    assert.deepEqual(await containers(), before);
  });

  test('docker rm -f of a proxy: a Docker event brings it back on the same exit', async () => {
    const before = await containers();
    const victim = before.get(`${ID}-us-1`);
    await docker.getContainer(victim?.id ?? '').remove({ force: true });
    const back = await waitFor(
      'the proxy to be recreated',
      async () => {
        const now = await containers();
        const again = now.get(`${ID}-us-1`);
        return again && again.id !== victim?.id && again.state === 'running' ? again : undefined;
      },
      10_000,
    );
    assert.equal(back.exits, victim?.exits);
    // Resync and fetch are 60 s apart here, so a recreation within the 10 s wait came from the Docker event
    // (which may coalesce into a pass another trigger had already queued).
    assert.ok(logs.some((l) => l.msg === 'pass finished' && l.changes === 1));
  });

  test('SIGTERM: exits 0 and the proxies keep running', async () => {
    const before = await containers();
    const exited = new Promise<number | null>((resolve) => service.on('exit', resolve));
    service.kill('SIGTERM');
    assert.equal(await exited, 0);
    assert.deepEqual(await containers(), before);
    assert.ok(logs.some((l) => l.msg === 'torfleet stopped'));
    assert.ok(
      readFileSync(path.join(dir, 'state', 'proxies', `${ID}-us-0`, 'torrc'), 'utf8').includes('DisableNetwork 1'),
    );
  });
});
