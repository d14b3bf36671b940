// first: it sizes V8's young generation before anything else allocates
import './gateway-heap.js';
import { parseArgs } from 'node:util';
import { childProcessReader } from '../gateway/fleet-reader.js';
import { followFleet } from '../gateway/follow-fleet.js';
import { GatewayInputs } from '../gateway/gateway-inputs.js';
import { parseListenSetting, requireTokenBeyondLoopback } from '../listen-address.js';
import type { CliContext, ExitCode } from './cli-context.js';
import { releaseOptimizingCompiler } from './startup-compiler.js';

/** The gateway's own modules, imported while the fleet reader child reads the fleet (it takes ~0.5 s). */
const serviceModules = (): Promise<
  [
    typeof import('../gateway/gateway-service.js'),
    typeof import('../service/supervisor.js'),
    typeof import('../service/gateway-runnable.js'),
    typeof import('../service/fleet-watch-runnable.js'),
  ]
> =>
  Promise.all([
    import('../gateway/gateway-service.js'),
    import('../service/supervisor.js'),
    import('../service/gateway-runnable.js'),
    import('../service/fleet-watch-runnable.js'),
  ]);

/**
 * `torfleet gateway [--no-corporate] [--listen IP:PORT]`: the gateway alone, in this process. Reads the
 * fleet from the same source as `plan` (each proxy's bind:port comes from it), follows its changes without
 * dropping open tunnels, and on SIGTERM/SIGINT stops accepting, drains open tunnels (30 s) and exits 0.
 * Loads neither SQLite nor Docker's client: it runs wherever Node does. The fleet is read and parsed in a
 * short-lived child process (gateway/fleet-reader.ts), so the sources, the YAML parser and ajv do not stay
 * in this one.
 */
export async function gatewayCommand(context: CliContext): Promise<ExitCode> {
  const { values } = parseArgs({
    args: [...context.args],
    options: { 'no-corporate': { type: 'boolean', default: false }, listen: { type: 'string' } },
    strict: true,
  });
  const { settings, log } = context;
  const listen = values.listen === undefined ? undefined : parseListenSetting('--listen', values.listen);
  const inputs = new GatewayInputs();
  const follower = followFleet({
    read: childProcessReader(context.env, settings, !values['no-corporate']),
    inputs,
    log,
  });
  const first = follower.load(true);
  const modules = serviceModules();
  modules.catch(() => undefined); // awaited below, unless the first load throws
  await first;
  const [{ GatewayService }, { Supervisor }, { gatewayRunnable }, { fleetWatchRunnable }] = await modules;
  const watch = follower.watch();
  if (!watch) throw new Error('the first fleet load returned without reading the source');
  if (listen) {
    const token = inputs.current()?.gateway?.token ? 'set' : null;
    requireTokenBeyondLoopback(
      '--listen',
      listen,
      'gateway.token: ${GATEWAY_TOKEN} in the fleet',
      token,
      'it as the proxy password',
    );
  }
  const reload = (): void => {
    void follower.load();
  };
  const supervisor = new Supervisor(
    [
      // main.ts held V8's optimizing compiler off for the start: on again with the first connection
      gatewayRunnable({
        host: new GatewayService({ log, onFirstConnection: releaseOptimizingCompiler }),
        feed: inputs,
        listen,
      }),
      fleetWatchRunnable(watch, reload),
    ],
    { log },
  );
  const stop = new AbortController();
  const onSignal = (signal: NodeJS.Signals): void => {
    log.info('gateway stopping', { signal });
    stop.abort();
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  try {
    await supervisor.run(stop.signal);
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  }
  log.info('gateway stopped');
  return 0;
}
