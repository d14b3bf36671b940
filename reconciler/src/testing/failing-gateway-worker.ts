/**
 * The real gateway worker (gateway-worker.ts), plus one way to kill it for tests: asked for its metrics, it
 * throws from its message listener before an answer goes out, as a bug in a callback would (metrics, because GatewayThread replays
 * nothing of them to the next worker).
 */
import { parentPort } from 'node:worker_threads';
import '../gateway/gateway-worker.js';

parentPort?.on('message', (request: { op?: string }) => {
  if (request.op === 'metrics') throw new Error('injected failure in the gateway worker'); // before any answer
});
