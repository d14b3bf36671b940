import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import Docker from 'dockerode';
import { ConfigError } from '../errors.js';
import type { FleetSource } from '../fleet-source/fleet-source.js';
import { createFileSource } from '../fleet-source/file-source.js';
import { createGitSource } from '../fleet-source/git-source.js';
import { NodeStore } from '../nodes/node-store.js';
import { packagePath } from '../package-root.js';
import type { PassDependencies } from '../reconcile/reconcile-pass.js';
import { DockerRuntime } from '../runtime/docker-runtime.js';
import { ProcessRuntime } from '../runtime/process-runtime.js';
import type { ProxyRuntime } from '../runtime/proxy-runtime.js';
import type { CliContext } from './cli-context.js';

/** The one place where settings become real components. */
export function createFleetSource(context: CliContext): FleetSource {
  const { settings } = context;
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

export function createRuntime(context: CliContext, docker: Docker): ProxyRuntime {
  if (context.settings.runtime === 'process') {
    return new ProcessRuntime({
      stateDir: path.resolve(context.settings.stateDir),
      instance: context.settings.instance,
      log: context.log,
      timeoutMs: context.settings.runtimeTimeoutMs,
    });
  }
  return new DockerRuntime(docker, {
    stateDir: path.resolve(context.settings.stateDir),
    instance: context.settings.instance,
    log: context.log,
    timeoutMs: context.settings.runtimeTimeoutMs,
  });
}

/** Everything a reconcile pass needs; the caller closes `store`. */
export function passDependencies(context: CliContext): PassDependencies & { store: NodeStore; docker: Docker } {
  const template = readFileSync(packagePath('templates', 'torrc.tmpl'), 'utf8');
  const source = createFleetSource(context);
  const docker = new Docker();
  const runtime = createRuntime(context, docker);
  const store = NodeStore.open(context.settings.db, { log: context.log });
  return { source, runtime, store, docker, template, env: context.env, log: context.log };
}

/** The fleet repository when it is a directory on this machine (watched for commits), else undefined. */
export function localRepository(context: CliContext): string | undefined {
  const { settings } = context;
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
