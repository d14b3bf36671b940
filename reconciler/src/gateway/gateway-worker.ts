/**
 * The gateway's worker thread inside `torfleet run` (GatewayThread starts it): a GatewayService driven by
 * messages, so reconcile work on the main thread (a node refresh parsing megabytes of JSON, SQLite writes)
 * never stalls a tunnel. Logs go straight to file descriptor 2, not through the main thread.
 */
import { batchedLines } from '../log-lines.js';
import { writeSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { ConfigError, errorMessage } from '../errors.js';
import { createLogger, type LogLevel } from '../logger.js';
import { fromWire } from './gateway-input.js';
import { GatewayService } from './gateway-service.js';
import type { WorkerReply, WorkerRequest } from './gateway-thread-messages.js';

const port = parentPort;
if (!port) throw new Error('gateway-worker.js runs as a worker thread of torfleet run');
const { level } = workerData as { level: LogLevel };
const log = createLogger(
  batchedLines((text) => writeSync(2, text)),
  level,
  () => new Date(),
  { runnable: 'gateway' },
);
const service = new GatewayService({ log });

async function answer(request: WorkerRequest): Promise<unknown> {
  switch (request.op) {
    case 'start':
      return service.start(request.listen, fromWire(request.input));
    case 'update':
      return service.update(fromWire(request.input));
    case 'unusable':
      return service.setUnusable(request.proxies);
    case 'metrics':
      return service.metricsText();
    case 'drain':
      return service.drain(request.ms);
  }
}

port.on('message', (request: WorkerRequest) => {
  answer(request).then(
    (value) => {
      port.postMessage({ id: request.id, ok: true, value } satisfies WorkerReply);
    },
    (error: unknown) => {
      const reply: WorkerReply = {
        id: request.id,
        ok: false,
        message: errorMessage(error),
        config: error instanceof ConfigError,
      };
      port.postMessage(reply);
    },
  );
});
