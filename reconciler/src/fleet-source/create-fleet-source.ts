import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { ConfigError } from '../errors.js';
import type { Settings } from '../settings.js';
import { createFileSource } from './file-source.js';
import type { FleetSource } from './fleet-source.js';
import { createGitSource } from './git-source.js';

/** The fleet source the settings name: a plain file (TORFLEET_FLEET_FILE), else a git repository. */
export function createFleetSource(settings: Settings): FleetSource {
  if (settings.fleetFile) return createFileSource(settings.fleetFile);
  const repository = settings.fleetRepo ?? repositoryOfWorkingDirectory();
  return createGitSource({
    repository,
    branch: settings.fleetBranch,
    filePath: settings.fleetPath,
    workDir: path.resolve(settings.stateDir, 'fleet-repo'),
    timeoutMs: settings.gitTimeoutMs,
  });
}

/** The fleet repository when it is a directory on this machine (watched for commits), else undefined. */
export function localRepository(settings: Settings): string | undefined {
  if (settings.fleetFile) return undefined;
  const repository = settings.fleetRepo ?? repositoryOfWorkingDirectory();
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
