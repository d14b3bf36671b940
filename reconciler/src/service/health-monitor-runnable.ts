import type { HealthMonitor } from '../probe/health-monitor.js';
import { untilAborted, type Runnable } from './runnable.js';

/**
 * Every proxy's tor health through its ControlSocket, and stuck bootstraps restarted within their budget
 * (`HealthMonitor`); stopping waits for the round in progress.
 */
export function healthMonitorRunnable(monitor: HealthMonitor): Runnable {
  return {
    name: 'health-monitor',
    async run({ signal, ready }) {
      monitor.start();
      ready();
      await untilAborted(signal);
      await monitor.stop();
    },
  };
}
