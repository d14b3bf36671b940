#!/usr/bin/env node
import { errorMessage, TorfleetError, UsageError } from '../errors.js';
import { createLogger } from '../logger.js';
import { readSettings } from '../settings.js';
import type { CliContext, ExitCode } from './cli-context.js';
import { NODES_USAGE, nodesCommand } from './nodes-command.js';
import { APPLY_USAGE, PLAN_USAGE, applyCommand, planCommand } from './plan-command.js';
import { RUN_USAGE, runCommand } from './run-command.js';
import { VALIDATE_USAGE, validateCommand } from './validate-command.js';

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

settings come from TORFLEET_* environment variables; see README.md.
`;

const COMMANDS: Readonly<Record<string, (context: CliContext) => Promise<ExitCode>>> = {
  validate: validateCommand,
  nodes: nodesCommand,
  plan: planCommand,
  apply: applyCommand,
  run: runCommand,
};

async function main(argv: readonly string[]): Promise<ExitCode> {
  const [command, ...args] = argv;
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    process.stdout.write(USAGE);
    return command === undefined ? 1 : 0;
  }
  const run = COMMANDS[command];
  if (!run) throw new UsageError(`unknown command "${command}"; run "torfleet help" for the commands`);
  const settings = readSettings(process.env);
  const write = (text: string): void => void process.stderr.write(text);
  return run({
    args,
    env: process.env,
    settings,
    out: (text) => void process.stdout.write(text),
    err: write,
    log: createLogger(write, process.env.TORFLEET_LOG_LEVEL || command === 'run' ? settings.logLevel : 'warn'),
    now: () => new Date(),
  });
}

/** User errors print one readable line, never a stack; unexpected errors (bugs) keep their stack. */
function report(error: unknown): void {
  if (error instanceof TorfleetError) {
    process.stderr.write(`torfleet: ${errorMessage(error)}\n`);
  } else if (error instanceof Error && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS')) {
    process.stderr.write(`torfleet: ${error.message}\n`);
  } else {
    process.stderr.write(
      `torfleet: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
  }
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
