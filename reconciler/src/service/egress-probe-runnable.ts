import { errorMessage } from '../errors.js';
import type { Fleet } from '../fleet/fleet-types.js';
import type { Plan } from '../plan/plan-types.js';
import { describeBootstrap } from '../probe/egress-diagnosis.js';
import type { EgressCheck, EgressProber } from '../probe/egress-probe.js';
import type { ProxyRuntime } from '../runtime/proxy-runtime.js';
import { untilAborted, type Runnable } from './runnable.js';

export interface EgressProbeOptions {
  readonly prober: EgressProber;
  readonly runtime: ProxyRuntime;
  readonly lastPlan: () => Plan | null;
  readonly fleet: () => Fleet | undefined;
  /** Each check of a proxy (metrics, the broker's health). */
  readonly onResult: (proxy: string, check: EgressCheck) => void;
  /** An exit was quarantined or released: the plan may move proxies. */
  readonly onQuarantineChanged: () => void;
}

/**
 * Egress checks through every running proxy of the last plan, each when due: every probe interval,
 * sooner (backoff) after a failure. Not with DisableNetwork (such proxies carry no traffic).
 */
export function egressProbeRunnable(options: EgressProbeOptions): Runnable {
  const { prober, runtime } = options;
  return {
    name: 'egress-probe',
    async run({ signal, ready, log }) {
      let probing = false;
      const tick = async (): Promise<void> => {
        const plan = options.lastPlan();
        if (probing || !plan || options.fleet()?.tor.disableNetwork !== false) return;
        probing = true;
        try {
          const observed = await runtime.list();
          const running = new Set(observed.filter((p) => p.state === 'running').map((p) => p.name));
          const specs = plan.changes.flatMap((c) => (c.after && running.has(c.proxy) ? [c.after] : []));
          const { checked, quarantineChanged } = await prober.probe(specs);
          for (const { proxy, check } of checked) {
            options.onResult(proxy, check);
            if (check.result !== 'ok')
              log.warn('egress check', {
                proxy,
                result: check.result,
                message: check.message,
                consecutiveFailures: check.consecutiveFailures,
                nextCheckAt: check.nextCheckAt,
                ...(check.diagnosis && {
                  bootstrap: describeBootstrap(check.diagnosis),
                  torLog: check.diagnosis.logTail,
                }),
              });
          }
          if (quarantineChanged) options.onQuarantineChanged();
        } catch (error) {
          log.warn('egress checks failed', { error: errorMessage(error) });
        } finally {
          probing = false;
        }
      };
      const timer = setInterval(() => void tick(), prober.tickMs);
      ready();
      await untilAborted(signal);
      clearInterval(timer);
    },
  };
}
