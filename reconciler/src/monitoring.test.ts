import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { packagePath } from './package-root.js';

/** monitoring/prometheus checked by the real promtool: config, rules, and the rules' unit tests. */
const run = promisify(execFile);
const dir = packagePath('monitoring', 'prometheus');

describe('monitoring/prometheus', () => {
  test('promtool check config', async () => {
    const { stdout } = await run('promtool', ['check', 'config', 'prometheus.yml'], { cwd: dir });
    assert.match(stdout, /SUCCESS: prometheus\.yml is valid/);
  });

  test('promtool check rules', async () => {
    const { stdout } = await run('promtool', ['check', 'rules', 'alerts.yml'], { cwd: dir });
    assert.match(stdout, /SUCCESS: 10 rules found/);
  });

  test('promtool test rules: every alert has a firing case in alerts.test.yml, and all pass', async () => {
    const rules = parse(readFileSync(`${dir}/alerts.yml`, 'utf8')) as { groups: { rules: { alert: string }[] }[] };
    const alerts = rules.groups.flatMap((group) => group.rules.map((rule) => rule.alert));
    const tests = parse(readFileSync(`${dir}/alerts.test.yml`, 'utf8')) as {
      tests: { alert_rule_test: { alertname: string; exp_alerts: unknown[] }[] }[];
    };
    const firing = new Set(
      tests.tests.flatMap((t) => t.alert_rule_test.filter((a) => a.exp_alerts.length > 0).map((a) => a.alertname)),
    );
    assert.deepEqual(
      alerts.filter((alert) => !firing.has(alert)),
      [],
    );
    const { stdout } = await run('promtool', ['test', 'rules', 'alerts.test.yml'], { cwd: dir });
    assert.match(stdout, /SUCCESS/);
  });

  test('the alerts only use metrics torfleet exports (or up)', () => {
    const text = readFileSync(`${dir}/alerts.yml`, 'utf8');
    const metrics = new Set(text.match(/\b(torfleet_[a-z_]+|up)\b(?=[{ ])/g));
    const exported = [
      'up',
      'torfleet_reconcile_total',
      'torfleet_nodes_relays_published_timestamp_seconds',
      'torfleet_desired_proxies',
      'torfleet_active_proxy_containers',
      'torfleet_available_tor_exit_nodes',
      'torfleet_proxies_ready',
      'torfleet_proxies_out_of_restart_budget',
      'torfleet_packed_circuits',
      'torfleet_packed_streams_refused_total',
    ];
    assert.deepEqual(
      [...metrics].filter((m) => !exported.includes(m)),
      [],
    );
  });
});
