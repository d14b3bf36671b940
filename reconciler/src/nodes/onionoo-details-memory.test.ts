import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'testing', 'hostile-details-child.js');

/**
 * The document: `"relays": []` then 240 top-level members, each an array of 350,000 empty objects
 * (252 MB, no value over 16 MiB). The parser used to build every such member whole: 697 MB peak RSS for 24 of
 * them, 1.5 GB for 60, out of heap (4.3 GB) for all 240. Skipped unread, the peak is the process's own ~57 MB.
 * The child has a 192 MB heap, so a parser that keeps them dies instead of swapping the machine.
 */
test('a 252 MB document of unknown members is parsed in flat memory, in a child process', async () => {
  const { stdout } = await run(process.execPath, ['--max-old-space-size=192', CHILD, '240', '350000'], {
    maxBuffer: 1024 * 1024,
  });
  const outcome = JSON.parse(stdout) as { ok: boolean; relays?: number; bytes: number; peakRssMb: number };
  assert.ok(outcome.bytes > 250_000_000, `fed ${outcome.bytes} bytes`);
  assert.deepEqual([outcome.ok, outcome.relays], [true, 0]);
  assert.ok(outcome.peakRssMb < 120, `peak RSS ${outcome.peakRssMb.toFixed(1)} MB; at most 120 MB expected`);
});
