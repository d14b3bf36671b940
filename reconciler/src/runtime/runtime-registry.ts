import Docker from 'dockerode';
import type { Logger } from '../logger.js';
import { DockerRuntime } from './docker-runtime.js';
import { ProcessRuntime } from './process-runtime.js';
import { SwarmRuntime } from './swarm-runtime.js';
import type { ProxyRuntime } from './proxy-runtime.js';
import type { RuntimeName } from './runtime-names.js';

export { isRuntimeName, RUNTIME_NAMES, type RuntimeName } from './runtime-names.js';

/** What every runtime is built from (the settings `run`, `plan` and `apply` share). */
export interface RuntimeOptions {
  /** Absolute host directory for torrc files and tor data directories. */
  readonly stateDir: string;
  readonly instance: string;
  readonly log: Logger;
  readonly timeoutMs: number;
}

/**
 * Every runtime torfleet can run proxies on, by its TORFLEET_RUNTIME name. Settings validation, the
 * wiring and `ProxyRuntime['name']` all derive from runtime-names.ts and this table: a new runtime is
 * one name there, one entry here and a class whose `name` is that key.
 */
export const RUNTIMES = {
  docker: (options: RuntimeOptions) => new DockerRuntime(new Docker(), options),
  process: (options: RuntimeOptions) => new ProcessRuntime(options),
  swarm: (options: RuntimeOptions) => new SwarmRuntime(new Docker(), options),
} as const satisfies Readonly<Record<RuntimeName, (options: RuntimeOptions) => ProxyRuntime>>;
