/** The one origin (nginx: /1k and /1m) and the one SOCKS5 server (microsocks) in front of it, for every proxy. */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { freePort } from './free-port.js';
import { buildNodelayShim } from './nodelay-shim.js';
import { nginxConfig } from './peer-configs.js';
import type { BenchPeers } from './proxies-under-test.js';
import { startService, type RunningService } from './spawned-service.js';

export interface SharedPeers extends BenchPeers {
  /** How microsocks runs (with the TCP_NODELAY shim, or as shipped when no C compiler was found). */
  readonly socksNote: string;
  stop(): Promise<void>;
}

export async function startSharedPeers(dir: string): Promise<SharedPeers> {
  const www = path.join(dir, 'www');
  mkdirSync(www, { recursive: true });
  writeFileSync(path.join(www, '1k'), randomBytes(1024));
  writeFileSync(path.join(www, '1m'), randomBytes(1024 * 1024));
  const originPort = await freePort();
  const config = path.join(dir, 'nginx.conf');
  writeFileSync(config, nginxConfig(dir, originPort));
  const started: RunningService[] = [];
  try {
    const nginxArgs = ['-c', config, '-p', dir, '-e', path.join(dir, 'nginx-error.log')];
    started.push(await startService({ name: 'nginx', command: 'nginx', args: nginxArgs, port: originPort }));
    const shim = await buildNodelayShim(dir);
    const socksPort = await freePort();
    const env: Record<string, string> = shim === null ? {} : { LD_PRELOAD: shim };
    const socksArgs = ['-i', '127.0.0.1', '-p', String(socksPort)];
    const socks = await startService({
      name: 'microsocks',
      command: 'microsocks',
      args: socksArgs,
      port: socksPort,
      env,
    });
    started.push(socks);
    return {
      dir,
      originPort,
      socksPort,
      socksPid: socks.pid,
      socksNote:
        shim === null
          ? 'microsocks as shipped (no C compiler for the TCP_NODELAY shim: expect 40 ms Nagle stalls on 1 KiB)'
          : 'microsocks with an LD_PRELOAD shim setting TCP_NODELAY (see bench/gateway/nodelay-shim.ts)',
      async stop() {
        for (const service of started.reverse()) await service.stop();
      },
    };
  } catch (error) {
    for (const service of started.reverse()) await service.stop();
    throw error;
  }
}
