/**
 * TESTS ONLY: a content service in a process of its own, for the crash test (the parent kills it with SIGKILL
 * mid-fetch). Usage: node content-service-child.js 'JSON of ContentHarnessOptions'. Prints `{"ready":true}` once
 * its API listens, then runs until killed.
 */
import { errorMessage } from '../errors.js';
import { startContentHarness, type ContentHarnessOptions } from './content-harness.js';

const options = JSON.parse(process.argv[2] ?? '{}') as ContentHarnessOptions;
startContentHarness(options).then(
  () => {
    process.stdout.write(`${JSON.stringify({ ready: true })}\n`);
  },
  (error: unknown) => {
    process.stdout.write(`${JSON.stringify({ ready: false, error: errorMessage(error) })}\n`);
    process.exit(1);
  },
);
