/**
 * Child process for the parser's memory test: streams a hostile but valid-looking Onionoo details document into
 * OnionooDetailsParser, generated on the fly: `{"relays_published": ..., "relays": []` then MEMBERS top-level
 * members, each an array of OBJECTS empty objects (240 × 350,000 is ~250 MB). Prints one JSON line:
 * the outcome, the bytes fed and the process's peak RSS. Usage: node hostile-details-child.js MEMBERS OBJECTS
 */
import { errorMessage } from '../errors.js';
import { OnionooDetailsParser } from '../nodes/onionoo-details.js';

const members = Number(process.argv[2] ?? 240);
const objects = Number(process.argv[3] ?? 350_000);
const CHUNK = 64 * 1024;

function* hostileDocument(): Generator<Buffer> {
  yield Buffer.from('{"relays_published": "2022-11-19 10:00:00", "relays": []');
  const run = Buffer.from('{},'.repeat(Math.floor(CHUNK / 3)));
  for (let m = 0; m < members; m++) {
    yield Buffer.from(`, "member${m}": [`);
    let left = objects - 1;
    while (left > 0) {
      const n = Math.min(left, Math.floor(CHUNK / 3));
      yield run.subarray(0, n * 3);
      left -= n;
    }
    yield Buffer.from('{}]');
  }
  yield Buffer.from('}');
}

const parser = new OnionooDetailsParser('hostile document');
let bytes = 0;
let outcome: Record<string, unknown>;
try {
  for (const chunk of hostileDocument()) {
    bytes += chunk.length;
    parser.push(chunk);
  }
  outcome = { ok: true, relays: parser.finish().relays.length };
} catch (error) {
  outcome = { ok: false, error: errorMessage(error) };
}
const peakRssMb = process.resourceUsage().maxRSS / 1024;
process.stdout.write(`${JSON.stringify({ ...outcome, bytes, peakRssMb })}\n`);
