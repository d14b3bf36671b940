import { parseArgs } from 'node:util';
import { UsageError } from '../errors.js';
import { createNodeSource } from '../nodes/create-node-source.js';
import { NodeStore } from '../nodes/node-store.js';
import { refreshNodes } from '../nodes/refresh-nodes.js';
import type { CliContext, ExitCode } from './cli-context.js';

export const NODES_USAGE = 'torfleet nodes refresh | torfleet nodes stats [--json]';

/** `torfleet nodes refresh` and `torfleet nodes stats [--json]`: 0 ok, 1 error. */
export async function nodesCommand(context: CliContext): Promise<ExitCode> {
  const [subcommand, ...rest] = context.args;
  if (subcommand === 'refresh') return refresh({ ...context, args: rest });
  if (subcommand === 'stats') return stats({ ...context, args: rest });
  throw new UsageError(`unknown nodes command "${subcommand ?? ''}"; usage: ${NODES_USAGE}`);
}

async function refresh(context: CliContext): Promise<ExitCode> {
  parseArgs({ args: [...context.args], options: {}, strict: true });
  const source = createNodeSource(context.settings, context.log);
  const store = NodeStore.open(context.settings.db);
  try {
    const outcome = await refreshNodes({ source, store, now: context.now, log: context.log });
    const stats = store.stats(context.now(), context.settings.nodesMaxAgeMs);
    const head =
      outcome.kind === 'updated'
        ? `updated from ${source.name} ${source.location}: ${outcome.relays} relays`
        : `not modified: ${source.name} ${source.location} has nothing newer`;
    context.out(
      `${head}; eligible exits US ${stats.exits.US}, NON_US ${stats.exits.NON_US}; relays_published ${stats.relaysPublished ?? 'never'}${stats.stale ? ' (stale)' : ''}\n`,
    );
    return 0;
  } finally {
    store.close();
  }
}

function stats(context: CliContext): ExitCode {
  const { values } = parseArgs({
    args: [...context.args],
    options: { json: { type: 'boolean', default: false } },
    strict: true,
  });
  const store = NodeStore.open(context.settings.db);
  try {
    const stats = store.stats(context.now(), context.settings.nodesMaxAgeMs);
    if (values.json) {
      context.out(`${JSON.stringify(stats)}\n`);
    } else {
      const maxAgeHours = context.settings.nodesMaxAgeMs / 3_600_000;
      context.out(
        [
          `relays (running)   ${stats.relays}`,
          `eligible exits     US ${stats.exits.US}, NON_US ${stats.exits.NON_US}`,
          `relays published   ${stats.relaysPublished ?? 'never'}${stats.stale ? `  STALE (older than ${maxAgeHours} h or never refreshed)` : ''}`,
          `last refresh       ${stats.refreshedAt ?? 'never'}`,
          '',
        ].join('\n'),
      );
    }
    return 0;
  } finally {
    store.close();
  }
}
