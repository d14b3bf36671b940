import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { parse } from 'yaml';
import { packagePath, packageRoot } from './package-root.js';
import { DEFAULT_ONIONOO_URL } from './settings.js';

/** docker-compose.yml, the Dockerfiles and the workflows: they parse, and everything they name exists. */
const read = (file: string): string => readFileSync(packagePath(file), 'utf8');
const makeTargets = new Set([...read('Makefile').matchAll(/^([a-z][a-z-]*):/gm)].map((m) => m[1]));

interface ComposeService {
  build?: { context: string; dockerfile: string };
  image?: string;
  environment?: Record<string, string>;
  volumes?: string[];
  network_mode?: string;
}

/** A compose value with every `${VAR:-default}` at its default, as with none of the variables set. */
const atDefaults = (value: string): string =>
  value.replace(/\$\{[A-Z_]+(?::?-([^}]*))?\}/g, (_, fallback?: string) => fallback ?? '');

describe('docker-compose.yml', () => {
  const compose = parse(read('docker-compose.yml')) as { services: Record<string, ComposeService> };

  test('runs the reconciler, Prometheus, Grafana and cAdvisor, on host networking like the proxies', () => {
    assert.deepEqual(Object.keys(compose.services).sort(), ['cadvisor', 'grafana', 'prometheus', 'reconciler']);
    for (const [name, service] of Object.entries(compose.services)) assert.equal(service.network_mode, 'host', name);
  });

  test('every mounted file or folder of the repository and every Dockerfile exists', () => {
    for (const [name, service] of Object.entries(compose.services)) {
      if (service.build)
        assert.ok(
          existsSync(path.join(packageRoot, service.build.context, service.build.dockerfile)),
          `${name}: Dockerfile`,
        );
      for (const volume of service.volumes ?? []) {
        const source = atDefaults(volume).split(':')[0] ?? '';
        if (source.startsWith('./')) assert.ok(existsSync(path.join(packageRoot, source)), `${name}: ${source}`);
      }
    }
  });

  test('Grafana loads the dashboards from where its provider looks, and Prometheus its rules', () => {
    const provider = parse(read('monitoring/grafana/provisioning/dashboards/torfleet.yml')) as {
      providers: { options: { path: string } }[];
    };
    const mounts = compose.services.grafana?.volumes ?? [];
    assert.ok(mounts.includes(`./monitoring/grafana/dashboards:${provider.providers[0]?.options.path ?? ''}:ro`));
    const prometheus = parse(read('monitoring/prometheus/prometheus.yml')) as { rule_files: string[] };
    for (const rules of prometheus.rule_files) {
      assert.ok(
        compose.services.prometheus?.volumes?.some((v) => v.endsWith(`/etc/prometheus/${rules}:ro`)),
        rules,
      );
    }
  });

  test('the reconciler sees its state directory at the same path as the Docker engine does, whatever it is', () => {
    const { volumes = [], environment = {} } = compose.services.reconciler ?? {};
    const stateDir = '${TORFLEET_STATE_DIR:-/var/lib/torfleet}';
    assert.ok(volumes.includes(`${stateDir}:${stateDir}`));
    assert.equal(environment.TORFLEET_STATE_DIR, stateDir);
    assert.equal(environment.TORFLEET_DB, `${stateDir}/torfleet.db`);
    assert.match(read('reconciler/Dockerfile'), /TORFLEET_STATE_DIR=\/var\/lib\/torfleet/);
  });

  test('with none of its variables set, docker-compose resolves the stack users always ran', () => {
    const env = Object.fromEntries(
      Object.entries(process.env).filter(([key]) => !key.startsWith('TORFLEET_') && !key.startsWith('COMPOSE_')),
    );
    const resolved = parse(
      execFileSync('docker-compose', ['-f', packagePath('docker-compose.yml'), 'config'], { env, encoding: 'utf8' }),
    ) as { services: Record<string, ComposeService & { command?: string[] }> };
    const reconciler = resolved.services.reconciler ?? {};
    const prometheus = resolved.services.prometheus ?? {};
    assert.equal(reconciler.image, 'torfleet/reconciler:latest');
    assert.deepEqual(
      Object.entries(reconciler.environment ?? {}).filter(([, value]) => value !== ''),
      [
        ['TORFLEET_DB', '/var/lib/torfleet/torfleet.db'],
        ['TORFLEET_FLEET_BRANCH', 'main'],
        ['TORFLEET_FLEET_REPO', '/srv/fleet-repo'],
        ['TORFLEET_LISTEN', '127.0.0.1:8080'],
        ['TORFLEET_NODE_SOURCE', 'onionoo'],
        // Compose's default is the reconciler's own (named once, in settings.ts; no test names the host).
        ['TORFLEET_ONIONOO_URL', DEFAULT_ONIONOO_URL],
        ['TORFLEET_STATE_DIR', '/var/lib/torfleet'],
      ],
    );
    assert.deepEqual(reconciler.volumes, [
      '/var/run/docker.sock:/var/run/docker.sock:rw',
      '/var/lib/torfleet:/var/lib/torfleet:rw',
      `${packageRoot}:/srv/fleet-repo:ro`,
    ]);
    assert.equal(prometheus.image, 'prom/prometheus:v2.53.0');
    assert.ok(prometheus.command?.includes('--web.listen-address=127.0.0.1:9090'));
    assert.equal(
      prometheus.volumes?.[0],
      `${packagePath('monitoring', 'prometheus', 'prometheus.yml')}:/etc/prometheus/prometheus.yml:ro`,
    );
  });
});

describe('Dockerfiles', () => {
  for (const [file, context] of [
    ['reconciler/Dockerfile', '.'],
    ['templates/Dockerfile', 'templates'],
  ] as const) {
    test(`${file}: every COPY source exists in its build context, and its .dockerignore leaves it in`, () => {
      const ignoreFile = path.join(packageRoot, context, '.dockerignore');
      const ignored = existsSync(ignoreFile)
        ? readFileSync(ignoreFile, 'utf8')
            .split('\n')
            .map((line) => line.trim())
            .filter((line) => line !== '' && !line.startsWith('#'))
        : [];
      for (const match of read(file).matchAll(/^COPY (?!--from)(.+) \S+$/gm)) {
        for (const source of (match[1] ?? '').split(' ')) {
          assert.ok(existsSync(path.join(packageRoot, context, source)), `${file}: COPY ${source}`);
          assert.ok(!ignored.includes(source.split('/')[0] ?? ''), `${file}: COPY ${source} is in .dockerignore`);
        }
      }
    });
  }
});

describe('.github/workflows', () => {
  const dir = packagePath('.github', 'workflows');
  for (const file of readdirSync(dir)) {
    test(`${file} parses, and every make target and file it names exists`, () => {
      const text = readFileSync(path.join(dir, file), 'utf8');
      const workflow = parse(text) as { on: unknown; jobs: Record<string, { steps: { run?: string }[] }> };
      assert.ok(workflow.on !== undefined && Object.keys(workflow.jobs).length > 0);
      const runs = Object.values(workflow.jobs).flatMap((job) => job.steps.map((step) => step.run ?? ''));
      for (const target of runs.join('\n').matchAll(/\bmake ([a-z][a-z-]*)/g)) {
        assert.ok(makeTargets.has(target[1]), `${file}: make ${target[1] ?? ''}`);
      }
      for (const named of runs.join('\n').matchAll(/-f ([\w./-]+)/g)) {
        assert.ok(existsSync(path.join(packageRoot, named[1] ?? '')), `${file}: ${named[1] ?? ''}`);
      }
    });
  }
});
