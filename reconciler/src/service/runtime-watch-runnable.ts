import type { ProxyRuntime } from '../runtime/proxy-runtime.js';
import { untilAborted, type Runnable } from './runnable.js';

/** The runtime's own events (a container died, a tor exited), each a trigger such as `docker die us-0`. */
export function runtimeWatchRunnable(runtime: ProxyRuntime, fire: (trigger: string) => void): Runnable {
  return {
    name: 'runtime-watch',
    async run({ signal, ready }) {
      const stop = runtime.watch((event) => {
        fire(`${runtime.name} ${event.action}${event.proxy ? ` ${event.proxy}` : ''}`);
      });
      ready();
      await untilAborted(signal);
      await stop();
    },
  };
}
