import { existsSync } from 'node:fs';
import path from 'node:path';
import { watch } from 'chokidar';
import type Docker from 'dockerode';
import { errorMessage } from '../errors.js';
import type { Logger } from '../logger.js';
import { LABEL } from '../runtime/proxy-runtime.js';

/** Something that stops. Every trigger returns one; `run` stops them all on SIGTERM. */
export type Stop = () => Promise<void> | void;

/** Calls `fire` every `ms` (first after `ms`). */
export function every(ms: number, fire: () => void): Stop {
  const timer = setInterval(fire, ms);
  return () => {
    clearInterval(timer);
  };
}

/** A plain fleet file: fires on every change, including replacement by an editor's rename. */
export function watchFile(file: string, fire: () => void): Stop {
  const watcher = watch(file, { ignoreInitial: true, awaitWriteFinish: { stabilityThreshold: 50, pollInterval: 20 } });
  watcher.on('all', fire);
  return () => watcher.close();
}

/**
 * A repository on this machine: fires when a branch ref moves (a commit, a push into a bare repository),
 * so a commit is seen within about a second instead of at the next fetch.
 */
export function watchLocalRepository(repository: string, fire: () => void): Stop | undefined {
  const candidates = [
    path.join(repository, '.git', 'refs', 'heads'),
    path.join(repository, '.git', 'packed-refs'),
    path.join(repository, 'refs', 'heads'),
    path.join(repository, 'packed-refs'),
  ].filter((candidate) => existsSync(candidate));
  if (candidates.length === 0) return undefined;
  const watcher = watch(candidates, { ignoreInitial: true });
  watcher.on('all', fire);
  return () => watcher.close();
}

/**
 * Docker events of this instance's containers (a container died, was killed or removed): each fires.
 * The stream is reopened after an error, so a restarted engine is followed.
 */
export function watchDockerEvents(docker: Docker, instance: string, fire: (event: string) => void, log: Logger): Stop {
  let stopped = false;
  let stream: NodeJS.ReadableStream | undefined;
  let retry: NodeJS.Timeout | undefined;
  const open = (): void => {
    docker.getEvents(
      {
        filters: {
          type: ['container'],
          event: ['die', 'destroy', 'kill', 'oom', 'stop'],
          label: [`${LABEL.managed}=true`, `${LABEL.instance}=${instance}`],
        },
      },
      (error, events) => {
        if (stopped) return;
        if (error || !events) {
          log.warn('docker events unavailable, retrying in 5 s', { error: errorMessage(error) });
          retry = setTimeout(open, 5000);
          return;
        }
        stream = events;
        events.on('data', (chunk: Buffer) => {
          for (const line of chunk.toString().split('\n').filter(Boolean)) {
            const event = JSON.parse(line) as { Action?: string; Actor?: { Attributes?: Record<string, string> } };
            fire(`docker ${event.Action ?? 'event'} ${event.Actor?.Attributes?.[LABEL.proxy] ?? ''}`.trim());
          }
        });
        events.on('end', () => {
          if (!stopped) retry = setTimeout(open, 1000);
        });
        events.on('error', () => undefined);
      },
    );
  };
  open();
  return () => {
    stopped = true;
    clearTimeout(retry);
    (stream as unknown as { destroy?: () => void } | undefined)?.destroy?.();
  };
}
