import { errorMessage, TorfleetError, UsageError } from '../errors.js';
import { batchedLines } from '../log-lines.js';
import { createLogger } from '../logger.js';
import { readSettings } from '../settings.js';
import type { CliContext, ExitCode } from './cli-context.js';
import { APPLY_USAGE, GATEWAY_USAGE, NODES_USAGE, PLAN_USAGE, RUN_USAGE, VALIDATE_USAGE } from './usage.js';

const USAGE = `torfleet: a GitOps reconciler for fleets of Tor SOCKS5 proxies

usage:
  ${VALIDATE_USAGE}
      check a fleet file (default: $TORFLEET_FLEET_FILE, else $TORFLEET_FLEET_PATH = fleet/fleet.yaml)
      exit 0 valid, 1 invalid
  ${PLAN_USAGE}
      print the changes apply would make, touching nothing; exit 0 no changes, 2 changes, 1 error
  ${APPLY_USAGE}
      one reconcile pass: converge the running proxies on the fleet; exit 0 converged, 1 error
  ${RUN_USAGE}
      the service: watch the fleet source, refresh nodes, reconcile; stops on SIGTERM/SIGINT with exit 0
  ${NODES_USAGE}
      refresh the exit-relay database now / print its counts; exit 0 ok, 1 error
  ${GATEWAY_USAGE}
      one local HTTP/CONNECT/SOCKS5 entry point to the fleet's pools and upstreams; stops on SIGTERM/SIGINT
      (draining open tunnels) with exit 0

settings come from TORFLEET_* environment variables; see README.md.
`;

type Command = (context: CliContext) => Promise<ExitCode>;

/**
 * Each command loads only what it uses: `torfleet gateway` never loads SQLite or Docker's client, so it
 * runs where neither is installed (npm's optional dependencies; a laptop).
 */
const COMMANDS: Readonly<Record<string, () => Promise<Command>>> = {
  validate: async () => (await import('./validate-command.js')).validateCommand,
  nodes: async () => (await import('./nodes-command.js')).nodesCommand,
  plan: async () => (await import('./plan-command.js')).planCommand,
  apply: async () => (await import('./plan-command.js')).applyCommand,
  run: async () => (await import('./run-command.js')).runCommand,
  gateway: async () => (await import('./gateway-command.js')).gatewayCommand,
};

/** Log lines leave once per event-loop turn; anything else written to stderr first lets them out, so order holds. */
const logLines = batchedLines((text) => void process.stderr.write(text));

async function main(argv: readonly string[]): Promise<ExitCode> {
  const [command, ...args] = argv;
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    process.stdout.write(USAGE);
    return command === undefined ? 1 : 0;
  }
  const load = Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined;
  if (!load) throw new UsageError(`unknown command "${command}"; run "torfleet help" for the commands`);
  const run = await load();
  const settings = readSettings(process.env);
  return run({
    args,
    env: process.env,
    settings,
    out: (text) => void process.stdout.write(text),
    err: (text) => {
      logLines.flush();
      process.stderr.write(text);
    },
    log: createLogger(
      logLines,
      process.env.TORFLEET_LOG_LEVEL || command === 'run' || command === 'gateway' ? settings.logLevel : 'warn',
    ),
    now: () => new Date(),
  });
}

/** User errors print one readable line, never a stack; unexpected errors (bugs) keep their stack. */
function report(error: unknown): void {
  logLines.flush();
  if (error instanceof TorfleetError) {
    process.stderr.write(`torfleet: ${errorMessage(error)}\n`);
  } else if (error instanceof Error && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS')) {
    process.stderr.write(`torfleet: ${error.message}\n`);
  } else if (missingOptionalPackage(error)) {
    const name = missingOptionalPackage(error);
    process.stderr.write(
      `torfleet: this command needs the package ${name}, which was not installed (an optional dependency: torfleet gateway runs without it); install it with: npm install ${name}\n`,
    );
  } else {
    process.stderr.write(
      `torfleet: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
  }
}

/** better-sqlite3 and dockerode are optional dependencies (a laptop's `torfleet gateway` needs neither). */
function missingOptionalPackage(error: unknown): string | undefined {
  if (!(error instanceof Error) || (error as { code?: unknown }).code !== 'ERR_MODULE_NOT_FOUND') return undefined;
  return ['better-sqlite3', 'dockerode'].find((name) => error.message.includes(`'${name}'`));
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    report(error);
    process.exitCode = 1;
  },
);
