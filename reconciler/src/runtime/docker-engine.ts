import type Docker from 'dockerode';
import { TorfleetError } from '../errors.js';
import { withDeadline } from './deadline.js';

/** What the docker and swarm runtimes share of talking to one Docker engine. */

/** The HTTP status of a Docker error, also when it is the cause of a TorfleetError. */
export function statusOf(error: unknown): number | undefined {
  if (error instanceof TorfleetError) return statusOf(error.cause);
  return typeof error === 'object' && error !== null && 'statusCode' in error ? Number(error.statusCode) : undefined;
}

/** The engine's socket or address, for messages. */
export function engineAddress(docker: Docker): string {
  const modem = docker.modem as unknown as { socketPath?: string; host?: string; port?: number | string };
  if (modem.socketPath) return `unix://${modem.socketPath}`;
  return `tcp://${modem.host ?? 'localhost'}:${String(modem.port ?? 2375)}`;
}

/**
 * One engine call with a deadline of `ms` (an engine that accepts and never answers must not hang a pass): its
 * failure becomes what `failure` makes of it (a typed error); the Docker status code stays on `cause`.
 */
export async function engineCall<T>(
  docker: Docker,
  ms: number,
  what: string,
  action: (signal: AbortSignal) => Promise<T>,
  failure: (what: string, error: unknown) => TorfleetError,
): Promise<T> {
  try {
    return await withDeadline(
      ms,
      () =>
        new TorfleetError(
          'RUNTIME',
          'waiting',
          `docker: no answer to "${what}" from ${engineAddress(docker)} within ${String(ms / 1000)} s; check that the Docker engine is running and responsive (or raise TORFLEET_RUNTIME_TIMEOUT)`,
        ),
      action,
    );
  } catch (error) {
    throw error instanceof TorfleetError ? error : failure(what, error);
  }
}

/** GET /images/NAME/json, as dockerode's image.inspect() does, but abortable (that one ignores a signal). */
export function inspectImage(docker: Docker, image: string, abortSignal: AbortSignal): Promise<unknown> {
  const options = {
    path: `/images/${image}/json`,
    method: 'GET',
    abortSignal,
    statusCodes: { 200: true, 404: 'no such image', 500: 'server error' },
  };
  return new Promise((resolve, reject) => {
    docker.modem.dial(options, (error, data) => {
      if (error) reject(error);
      else resolve(data);
    });
  });
}

/** An IMAGE_MISSING error (stalled: no pass helps until someone builds or pulls it) when `image` is not there. */
export async function requireImage(
  call: (what: string, action: (signal: AbortSignal) => Promise<unknown>) => Promise<unknown>,
  docker: Docker,
  image: string,
  where = '',
): Promise<void> {
  try {
    await call(`inspect image ${image}`, (abortSignal) => inspectImage(docker, image, abortSignal));
  } catch (error) {
    if (statusOf(error) === 404) {
      throw new TorfleetError(
        'IMAGE_MISSING',
        'stalled',
        `the tor image ${image} is not on this Docker engine; build it with "make image" (no registry needed) or docker pull it${where}`,
        { cause: error },
      );
    }
    throw error;
  }
}
