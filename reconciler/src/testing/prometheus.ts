import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';

export interface PromSample {
  readonly metric: Record<string, string>;
  readonly value: [number, string];
}

export interface TestPrometheus {
  /** An instant query through Prometheus' HTTP API; throws unless Prometheus answers success. */
  query(expr: string): Promise<PromSample[]>;
  stop(): void;
}

/** A real Prometheus on `listen` (loopback) scraping `target` every second, its data in `dir`. */
export function startPrometheus(dir: string, listen: string, target: string): TestPrometheus {
  const config = path.join(dir, 'prometheus.yml');
  writeFileSync(
    config,
    stringify({
      global: { scrape_interval: '1s' },
      scrape_configs: [{ job_name: 'torfleet', static_configs: [{ targets: [target] }] }],
    }),
  );
  const child: ChildProcess = spawn(
    'prometheus',
    [`--config.file=${config}`, `--storage.tsdb.path=${path.join(dir, 'tsdb')}`, `--web.listen-address=${listen}`],
    { stdio: 'ignore' },
  );
  return {
    async query(expr: string): Promise<PromSample[]> {
      const response = await fetch(`http://${listen}/api/v1/query?query=${encodeURIComponent(expr)}`);
      const body = (await response.json()) as { status: string; error?: string; data: { result: PromSample[] } };
      if (body.status !== 'success') throw new Error(`${expr}: ${body.error ?? body.status}`);
      return body.data.result;
    },
    stop() {
      child.kill('SIGKILL');
    },
  };
}

/** `sum by (geo_category)` results as `{US: "1", NON_US: "2"}`. */
export function byGeoCategory(result: readonly PromSample[]): Record<string, string> {
  return Object.fromEntries(result.map((r): [string, string] => [r.metric.geo_category ?? '', r.value[1]]));
}
