import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { parse } from 'yaml';
import { packagePath, packageRoot } from './package-root.js';

/** docker-compose.yml, the Dockerfiles and the workflows: they parse, and everything they name exists. */
const read = (file: string): string => readFileSync(packagePath(file), 'utf8');
const makeTargets = new Set([...read('Makefile').matchAll(/^([a-z][a-z-]*):/gm)].map((m) => m[1]));

interface ComposeService {
  build?: { context: string; dockerfile: string };
  volumes?: string[];
  network_mode?: string;
}

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
        const source = volume.split(':')[0] ?? '';
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

  test('the reconciler sees its state directory at the same path as the Docker engine does', () => {
    assert.ok(compose.services.reconciler?.volumes?.includes('/var/lib/torfleet:/var/lib/torfleet'));
    assert.match(read('reconciler/Dockerfile'), /TORFLEET_STATE_DIR=\/var\/lib\/torfleet/);
  });
});

describe('Dockerfiles', () => {
  for (const [file, context] of [
    ['reconciler/Dockerfile', '.'],
    ['templates/Dockerfile', 'templates'],
  ] as const) {
    test(`${file}: every COPY source exists in its build context`, () => {
      for (const match of read(file).matchAll(/^COPY (?!--from)(.+) \S+$/gm)) {
        for (const source of (match[1] ?? '').split(' ')) {
          assert.ok(existsSync(path.join(packageRoot, context, source)), `${file}: COPY ${source}`);
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
