import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { ConfigError } from '../errors.js';
import type { FleetWatch } from '../service/fleet-watch-runnable.js';
import type { Settings } from '../settings.js';

/**
 * What to watch for changes of the fleet the settings name (`run` and the gateway's fleet reader): the plain file,
 * else the repository, fetched every interval and, on this machine, watched for commits. No git client here: a
 * fleet reader for a plain file does not load simple-git.
 */
export function fleetWatchOf(settings: Settings): FleetWatch {
  if (settings.fleetFile) return { kind: 'file', file: settings.fleetFile };
  return { kind: 'git', fetchIntervalMs: settings.fetchIntervalMs, localRepository: localRepository(settings) };
}

/** The fleet's git repository: TORFLEET_FLEET_REPO, else the repository of the working directory. */
export function fleetRepository(settings: Settings): string {
  return settings.fleetRepo ?? repositoryOfWorkingDirectory();
}

/** The fleet repository when it is a directory on this machine (watched for commits), else undefined. */
export function localRepository(settings: Settings): string | undefined {
  if (settings.fleetFile) return undefined;
  const repository = fleetRepository(settings);
  return /^[a-z]+:\/\//i.test(repository) || /^[^/]+@[^:]+:/.test(repository) ? undefined : path.resolve(repository);
}

function repositoryOfWorkingDirectory(): string {
  try {
    return execFileSync('git', ['rev-parse', '--show-toplevel'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    throw new ConfigError(
      'no fleet to read: set TORFLEET_FLEET_FILE (a plain file) or TORFLEET_FLEET_REPO (a git URL or path), or run torfleet inside the fleet repository',
    );
  }
}
