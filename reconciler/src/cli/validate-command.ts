import { existsSync, readFileSync } from 'node:fs';
import { UsageError } from '../errors.js';
import { parseArgs } from 'node:util';
import { FleetValidationError, formatIssue, type FleetIssue } from '../fleet/fleet-issue.js';
import { loadFleetFile } from '../fleet/load-fleet.js';
import { NodeStore } from '../nodes/node-store.js';
import { packagePath } from '../package-root.js';
import { findExecutable, verifyFleetTorrcs } from '../torrc/verify-fleet-torrcs.js';
import type { CliContext, ExitCode } from './cli-context.js';
import { VALIDATE_USAGE } from './usage.js';

/**
 * `torfleet validate [FILE]`: 0 valid, 1 invalid. FILE defaults to TORFLEET_FLEET_FILE, else TORFLEET_FLEET_PATH.
 * When the node database (TORFLEET_DB) exists and holds relays, pool counts are checked against it too.
 * When `tor` is on the PATH, each pool's torrc is rendered and checked with `tor --verify-config`, as
 * the reconciler does before it starts a proxy. The GeoIP file is checked when this machine can read it.
 */
export async function validateCommand(context: CliContext): Promise<ExitCode> {
  const { values, positionals } = parseArgs({
    args: [...context.args],
    options: { json: { type: 'boolean', default: false }, 'no-nodes': { type: 'boolean', default: false } },
    allowPositionals: true,
    strict: true,
  });
  if (positionals.length > 1) throw new UsageError(`validate takes one file; usage: ${VALIDATE_USAGE}`);
  const file = positionals[0] ?? context.settings.fleetFile ?? context.settings.fleetPath;

  const store =
    !values['no-nodes'] && existsSync(context.settings.db) ? NodeStore.open(context.settings.db) : undefined;
  try {
    const capacity = store?.hasRelays() ? store : undefined;
    let errors: readonly FleetIssue[] = [];
    let warnings: readonly FleetIssue[] = [];
    let summary = '';
    const tor = findExecutable('tor', context.env.PATH);
    let torrcChecked = false;
    try {
      const loaded = await loadFleetFile(file, { env: context.env, capacity, geoipFile: 'if-readable' });
      warnings = loaded.warnings;
      const pools = loaded.fleet.pools;
      const proxies = pools.reduce((sum, pool) => sum + pool.count, 0);
      summary = `${pools.length} pool(s), ${proxies} prox${proxies === 1 ? 'y' : 'ies'}`;
      if (tor) {
        const template = readFileSync(packagePath('templates', 'torrc.tmpl'), 'utf8');
        const rejected = await verifyFleetTorrcs(loaded.fleet, template, { torBinary: tor });
        errors = rejected.map(({ poolIndex, message }) => loaded.issueAt(['pools', poolIndex], message));
        torrcChecked = true;
      }
    } catch (error) {
      if (!(error instanceof FleetValidationError)) throw error;
      errors = error.issues;
    }
    if (values.json) {
      context.out(
        `${JSON.stringify({ file, valid: errors.length === 0, errors, warnings, nodesChecked: capacity !== undefined, torrcChecked }, null, 2)}\n`,
      );
    } else {
      for (const issue of errors) context.err(`${formatIssue(issue)}\n`);
      for (const issue of warnings) context.err(`${formatIssue({ ...issue, message: `warning: ${issue.message}` })}\n`);
      const checked = capacity ? ' (counts checked against the node database)' : '';
      context.out(
        errors.length === 0
          ? `${file}: valid, ${summary}${checked}\n`
          : `${file}: invalid, ${errors.length} problem${errors.length === 1 ? '' : 's'}\n`,
      );
      if (summary !== '') {
        context.out(
          torrcChecked
            ? `torrc of each pool checked with ${tor ?? 'tor'} --verify-config\n`
            : 'torrcs not checked: tor is not on the PATH (apt-get install tor); the reconciler checks them before it starts a proxy\n',
        );
      }
    }
    return errors.length === 0 ? 0 : 1;
  } finally {
    store?.close();
  }
}
