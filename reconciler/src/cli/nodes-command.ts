import { parseArgs } from 'node:util';
import { TorfleetError, UsageError } from '../errors.js';
import type { NodeStats } from '../nodes/node-stats.js';
import { createNodeSource } from './wiring.js';
import { NodeStore } from '../nodes/node-store.js';
import { refreshNodes } from '../nodes/refresh-nodes.js';
import type { CliContext, ExitCode } from './cli-context.js';
import { NODES_USAGE } from './usage.js';

/** `torfleet nodes refresh [--accept-snapshot]` and `torfleet nodes stats [--json]`: 0 ok, 1 error. */
export async function nodesCommand(context: CliContext): Promise<ExitCode> {
  const [subcommand, ...rest] = context.args;
  if (subcommand === 'refresh') return refresh({ ...context, args: rest });
  if (subcommand === 'stats') return stats({ ...context, args: rest });
  throw new UsageError(`unknown nodes command "${subcommand ?? ''}"; usage: ${NODES_USAGE}`);
}

/** Opens the store; says so on stderr when a damaged file had to be moved aside. */
function openStore(context: CliContext): NodeStore {
  const store = NodeStore.open(context.settings.db);
  const recovery = store.recovery;
  if (recovery) {
    context.err(
      `torfleet: the node database ${store.file} was damaged (${recovery.problem}); moved it aside to ${recovery.movedTo} and started a fresh one\n`,
    );
  }
  return store;
}

async function refresh(context: CliContext): Promise<ExitCode> {
  const { values } = parseArgs({
    args: [...context.args],
    options: { 'accept-snapshot': { type: 'boolean', default: false } },
    strict: true,
  });
  const source = createNodeSource(context.settings, context.log);
  const store = openStore(context);
  try {
    const outcome = await refreshNodes({
      source,
      store,
      now: context.now,
      log: context.log,
      maxDrop: context.settings.nodesMaxDrop,
      acceptSnapshot: values['accept-snapshot'],
    });
    if (outcome.kind === 'refused') {
      throw new TorfleetError(
        'NODE_SNAPSHOT_REFUSED',
        'stalled',
        `refused the snapshot from ${source.name} ${source.location} (${outcome.reason}): ${outcome.message}; kept the stored snapshot; if the change is real, run torfleet nodes refresh --accept-snapshot`,
      );
    }
    const stats = store.stats(context.now(), context.settings.nodesMaxAgeMs);
    const head =
      outcome.kind === 'updated'
        ? `updated from ${source.name} ${source.location}: ${outcome.relays} relays${outcome.overridden ? ` (accepted although ${outcome.overridden})` : ''}`
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
  const store = openStore(context);
  try {
    const stats = store.stats(context.now(), context.settings.nodesMaxAgeMs);
    if (values.json) {
      context.out(`${JSON.stringify(contractStats(stats))}\n`);
    } else {
      const maxAgeHours = context.settings.nodesMaxAgeMs / 3_600_000;
      const refusal = stats.lastRefusal;
      context.out(
        [
          `relays (running)   ${stats.relays}`,
          `eligible exits     US ${stats.exits.US}, NON_US ${stats.exits.NON_US}`,
          `relays published   ${stats.relaysPublished ?? 'never'}${stats.stale ? `  STALE (older than ${maxAgeHours} h or never refreshed)` : ''}`,
          `last refresh       ${stats.refreshedAt ?? 'never'}`,
          ...(refusal
            ? [`REFUSED            ${refusal.at} (${refusal.reason}): ${refusal.message}; kept the stored snapshot`]
            : []),
          '',
        ].join('\n'),
      );
    }
    return 0;
  } finally {
    store.close();
  }
}

/** The `--json` shape the contract fixes, in its order; `lastRefusal` only when a snapshot was refused. */
function contractStats(stats: NodeStats): Record<string, unknown> {
  const { exits, relays, relaysPublished, refreshedAt, stale, lastRefusal } = stats;
  return { exits, relays, relaysPublished, refreshedAt, stale, ...(lastRefusal ? { lastRefusal } : {}) };
}
