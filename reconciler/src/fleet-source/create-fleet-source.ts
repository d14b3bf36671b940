import path from 'node:path';
import type { Settings } from '../settings.js';
import { createFileSource } from './file-source.js';
import type { FleetSource } from './fleet-source.js';
import { fleetRepository } from './fleet-watch-of.js';
import { createGitSource } from './git-source.js';

/** The fleet source the settings name: a plain file (TORFLEET_FLEET_FILE), else a git repository. */
export function createFleetSource(settings: Settings): FleetSource {
  if (settings.fleetFile) return createFileSource(settings.fleetFile);
  return createGitSource({
    repository: fleetRepository(settings),
    branch: settings.fleetBranch,
    filePath: settings.fleetPath,
    workDir: path.resolve(settings.stateDir, 'fleet-repo'),
    timeoutMs: settings.gitTimeoutMs,
  });
}
