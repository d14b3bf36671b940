import { parseArgs } from 'node:util';
import { createFleetSource, localRepository } from '../fleet-source/create-fleet-source.js';
import { followFleet } from '../gateway/follow-fleet.js';
import { GatewayInputs } from '../gateway/gateway-inputs.js';
import { GatewayService } from '../gateway/gateway-service.js';
import { parseListenSetting, requireTokenBeyondLoopback } from '../listen-address.js';
import { fleetWatchRunnable } from '../service/fleet-watch-runnable.js';
import { gatewayRunnable } from '../service/gateway-runnable.js';
import { Supervisor } from '../service/supervisor.js';
import type { CliContext, ExitCode } from './cli-context.js';

/**
 * `torfleet gateway [--no-corporate] [--listen IP:PORT]`: the gateway alone, in this process. Reads the
 * fleet from the same source as `plan` (each proxy's bind:port comes from it), follows its changes without
 * dropping open tunnels, and on SIGTERM/SIGINT stops accepting, drains open tunnels (30 s) and exits 0.
 * Loads neither SQLite nor Docker's client: it runs wherever Node does.
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
    source: createFleetSource(settings),
    env: context.env,
    inputs,
    corporate: !values['no-corporate'],
    log,
  });
  await follower.load(true);
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
      gatewayRunnable({ host: new GatewayService({ log }), feed: inputs, listen }),
      fleetWatchRunnable(
        settings.fleetFile
          ? { kind: 'file', file: settings.fleetFile }
          : { kind: 'git', fetchIntervalMs: settings.fetchIntervalMs, localRepository: localRepository(settings) },
        reload,
      ),
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
