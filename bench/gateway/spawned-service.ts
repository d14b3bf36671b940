/** One peer process of the bench (nginx, microsocks, a proxy under test): spawned, awaited on its port, killed by PID. */
import { spawn } from 'node:child_process';
import { waitForPort } from './free-port.js';

export interface ServiceOptions {
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly port: number;
  readonly env?: Record<string, string>;
  readonly startDeadlineMs?: number;
}

export interface RunningService {
  readonly name: string;
  readonly pid: number;
  readonly port: number;
  /** Spawn → the port accepts a connection, in ms. */
  readonly startMs: number;
  stop(): Promise<void>;
}

const STDERR_TAIL = 4096;

export async function startService(options: ServiceOptions): Promise<RunningService> {
  const started = performance.now();
  const child = spawn(options.command, options.args, {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, ...options.env },
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-STDERR_TAIL); // bounded: only the tail explains a failure
  });
  // written by the child's listeners, read later: an object, so the compiler does not narrow them to null
  const state: { exited: string | null; spawnError: Error | null } = { exited: null, spawnError: null };
  const exit = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      state.exited = `exit ${code ?? signal ?? '?'}`;
      resolve();
    });
  });
  child.once('error', (error) => {
    state.spawnError = error;
  });
  const stop = async (): Promise<void> => {
    if (state.exited !== null || child.pid === undefined) return;
    child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), 3000);
    await exit;
    clearTimeout(killer);
  };
  try {
    await waitForPort(
      options.port,
      options.startDeadlineMs ?? 10_000,
      () => state.exited === null && state.spawnError === null,
    );
  } catch (error) {
    const why = state.spawnError?.message ?? state.exited ?? (error as Error).message; // before stop() sets exited
    await stop();
    throw new Error(`${options.name} did not start (${why}): ${stderr.trim().slice(-600) || 'no stderr'}`, {
      cause: error,
    });
  }
  const startMs = performance.now() - started;
  if (child.pid === undefined) throw new Error(`${options.name}: spawned without a pid`);
  return { name: options.name, pid: child.pid, port: options.port, startMs, stop };
}
