import { watchFile, watchLocalRepository, type Stop } from '../reconcile/triggers.js';
import { untilAborted, type Runnable } from './runnable.js';

export type FleetWatch =
  | { readonly kind: 'file'; readonly file: string }
  | { readonly kind: 'git'; readonly fetchIntervalMs: number; readonly localRepository: string | undefined };

/**
 * Says when the fleet may have changed: a plain file on every change (`fleet file changed`); a git
 * repository every fetch interval (`fetch`) and, when it is on this machine, on every moved ref (`commit`).
 */
export function fleetWatchRunnable(watch: FleetWatch, fire: (trigger: string) => void): Runnable {
  return {
    name: 'fleet-watch',
    async run({ signal, ready }) {
      const stops: Stop[] = [];
      let timer: NodeJS.Timeout | undefined;
      if (watch.kind === 'file') {
        stops.push(
          watchFile(watch.file, () => {
            fire('fleet file changed');
          }),
        );
      } else {
        timer = setInterval(() => {
          fire('fetch');
        }, watch.fetchIntervalMs);
        const watcher = watch.localRepository
          ? watchLocalRepository(watch.localRepository, () => {
              fire('commit');
            })
          : undefined;
        if (watcher) stops.push(watcher);
      }
      ready();
      await untilAborted(signal);
      clearInterval(timer);
      for (const stop of stops) await stop();
    },
  };
}
