import type { Controller } from '../reconcile/controller.js';
import { untilAborted, type Runnable } from './runnable.js';

/**
 * The reconcile controller: a first pass at start (trigger `start`), then one per event its triggers
 * enqueue. Stopping waits for the pass in progress to finish; the proxies keep running.
 */
export function controllerRunnable(controller: Controller): Runnable {
  return {
    name: 'controller',
    async run({ signal, ready }) {
      controller.enqueue('start');
      ready();
      await untilAborted(signal);
      await controller.stop();
    },
  };
}
