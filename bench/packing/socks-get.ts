/** Waiting for the first answer through a SOCKS5 port (one GET: reconciler/src/testing/socks-echo.ts). */
import { performance } from 'node:perf_hooks';
import { socksGet } from '../../reconciler/src/testing/socks-echo.js';

export { socksGet, type SocksGet } from '../../reconciler/src/testing/socks-echo.js';

/**
 * Retries `socksGet` until it answers (the port not open yet, the circuit not built yet), every `everyMs`;
 * resolves with the ms from `since` (performance.now()) to the answer, and how many attempts it took.
 */
export async function firstAnswer(
  socksPort: number,
  targetPort: number,
  since: number,
  deadlineMs: number,
  everyMs = 5,
): Promise<{ ms: number; attempts: number; ip: string; lastError: string }> {
  let attempts = 0;
  let lastError = '';
  for (;;) {
    attempts++;
    try {
      const answer = await socksGet(socksPort, targetPort);
      return { ms: performance.now() - since, attempts, ip: answer.ip, lastError };
    } catch (error) {
      lastError = (error as Error).message;
    }
    if (performance.now() - since > deadlineMs) {
      throw new Error(`no answer through port ${socksPort} within ${deadlineMs} ms (last: ${lastError})`);
    }
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
