import { connect } from 'node:net';
import path from 'node:path';
import { errorMessage, TorfleetError } from '../errors.js';
import { FileReadError, readRegularFile } from '../fs/read-regular-file.js';

/** tor's cookie is 32 bytes; the whole answer to our three commands is a few hundred. */
const MAX_COOKIE_BYTES = 1024;
const MAX_ANSWER_BYTES = 64 * 1024;

/** What a proxy's tor says of itself through its ControlSocket. */
export interface TorHealth {
  /** 0-100, from `status/bootstrap-phase`. */
  readonly bootstrapProgress: number;
  readonly bootstrapSummary: string;
  /** The bootstrap phase's tag (`loading_descriptors`, `conn_done`, `done` ...). */
  readonly bootstrapTag: string;
  /** tor's own words when bootstrapping hit a problem (`WARNING=` / `REASON=` of the phase), or null. */
  readonly bootstrapProblem: string | null;
  readonly circuitEstablished: boolean;
  /** `network-liveness` is up: false while DisableNetwork 1, and while tor reaches no relay at all. */
  readonly networkEnabled: boolean;
}

/**
 * Asks a proxy's tor how it is doing, through the ControlSocket and cookie in its data directory (a host
 * path for both runtimes). The data directory is the proxy's tor's to write, so what answers there is a
 * peer, not a trusted tor: the whole exchange ends within `timeoutMs` (however slowly bytes trickle in), an
 * answer over 64 KiB or not in tor's reply format is an error, and the cookie is read only when it is a
 * small regular file. A hung or hostile tor is unhealthy, never a hung or swollen caller.
 */
export async function torHealth(dataDirectory: string, timeoutMs = 2000): Promise<TorHealth> {
  const cookieFile = path.join(dataDirectory, 'control_auth_cookie');
  const cookie = await readRegularFile(cookieFile, MAX_COOKIE_BYTES).catch((error: unknown) => {
    const why =
      error instanceof FileReadError && error.reason !== 'unreadable'
        ? error.about(`the control cookie ${cookieFile}`)
        : `no control cookie in ${dataDirectory} yet (tor not started?)`;
    throw new TorfleetError('RUNTIME', 'waiting', why, { cause: error });
  });
  const replies = await exchange(
    path.join(dataDirectory, 'control'),
    [
      `AUTHENTICATE ${cookie.toString('hex')}`,
      'GETINFO status/bootstrap-phase status/circuit-established network-liveness',
      'QUIT',
    ],
    timeoutMs,
  );
  const value = (key: string): string =>
    replies.find((line) => line.startsWith(`250-${key}=`))?.slice(key.length + 5) ?? '';
  const phase = value('status/bootstrap-phase');
  const warning = /WARNING="([^"]*)"/.exec(phase)?.[1];
  const reason = /REASON=(\S+)/.exec(phase)?.[1];
  return {
    bootstrapProgress: Number(/PROGRESS=(\d+)/.exec(phase)?.[1] ?? 0),
    bootstrapSummary: /SUMMARY="([^"]*)"/.exec(phase)?.[1] ?? '',
    bootstrapTag: /TAG=(\S+)/.exec(phase)?.[1] ?? '',
    bootstrapProblem: warning === undefined ? null : reason === undefined ? warning : `${warning} (${reason})`,
    circuitEstablished: value('status/circuit-established') === '1',
    networkEnabled: value('network-liveness') === 'up',
  };
}

/**
 * Sends commands one per line and collects every reply line until tor closes the connection (after QUIT).
 * Settles once: at the deadline, past the answer cap, on an error, or at the close.
 */
function exchange(socketPath: string, commands: readonly string[], timeoutMs: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const socket = connect(socketPath);
    const chunks: Buffer[] = [];
    let received = 0;
    let settled = false;
    const settle = (outcome: { lines: string[] } | { error: string }): void => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      socket.destroy();
      if ('lines' in outcome) resolve(outcome.lines);
      else reject(new TorfleetError('RUNTIME', 'waiting', `tor control ${socketPath}: ${outcome.error}`));
    };
    const deadline = setTimeout(() => {
      settle({ error: `no complete answer within ${timeoutMs} ms` });
    }, timeoutMs);
    socket.on('connect', () => socket.write(commands.map((c) => `${c}\r\n`).join('')));
    socket.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received > MAX_ANSWER_BYTES) settle({ error: `answered more than ${MAX_ANSWER_BYTES} bytes` });
      else chunks.push(chunk);
    });
    socket.on('error', (error) => {
      settle({ error: errorMessage(error) });
    });
    socket.on('close', () => {
      const lines = Buffer.concat(chunks).toString('utf8').split('\r\n').filter(Boolean);
      const refused = lines.find((line) => /^[45]\d\d /.test(line));
      if (refused) settle({ error: `refused: ${refused.slice(0, 200)}` });
      else if (!/^\d{3}[ +-]/.test(lines[0] ?? '') || !lines.some((line) => line.startsWith('250 ')))
        settle({ error: 'did not answer as tor does (not control-protocol replies)' });
      else settle({ lines });
    });
  });
}
