import { parseArgs } from 'node:util';
import type { CliContext, ExitCode } from './cli-context.js';
import { runServices } from './wiring.js';

/**
 * `torfleet run`: the service, a supervisor over the runnables `runServices` wires (the API, the node
 * refresh, the controller and its triggers). Runs until SIGTERM or SIGINT, then stops them in reverse
 * (the current pass finishes) and exits 0; the proxies keep running. A setting that stops a runnable
 * from starting (the API's address taken) ends it with that error (exit 1).
 */
export async function runCommand(context: CliContext): Promise<ExitCode> {
  parseArgs({ args: [...context.args], options: {}, strict: true });
  const { log } = context;
  const services = runServices(context);
  const stop = new AbortController();
  const onSignal = (signal: NodeJS.Signals): void => {
    log.info('stopping: finishing the current pass; proxies keep running', { signal });
    stop.abort();
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  log.info('torfleet starting', services.description);
  try {
    await services.supervisor.run(stop.signal);
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    services.close();
  }
  log.info('torfleet stopped');
  return 0;
}
