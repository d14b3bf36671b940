import { readFile } from 'node:fs/promises';
import { connect } from 'node:net';
import path from 'node:path';
import { errorMessage, TorfleetError } from '../errors.js';

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
 * path for both runtimes). Answers within `timeoutMs` or fails: a hung tor is unhealthy, not a hung caller.
 */
export async function torHealth(dataDirectory: string, timeoutMs = 2000): Promise<TorHealth> {
  const cookie = await readFile(path.join(dataDirectory, 'control_auth_cookie')).catch((error: unknown) => {
    throw new TorfleetError('RUNTIME', 'waiting', `no control cookie in ${dataDirectory} yet (tor not started?)`, {
      cause: error,
    });
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

/** Sends commands one per line and collects every reply line until tor closes the connection (after QUIT). */
function exchange(socketPath: string, commands: readonly string[], timeoutMs: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const socket = connect(socketPath);
    let text = '';
    const fail = (what: string): void => {
      socket.destroy();
      reject(new TorfleetError('RUNTIME', 'waiting', `tor control ${socketPath}: ${what}`));
    };
    socket.setTimeout(timeoutMs, () => {
      fail(`no answer within ${timeoutMs} ms`);
    });
    socket.on('connect', () => socket.write(commands.map((c) => `${c}\r\n`).join('')));
    socket.on('data', (chunk: Buffer) => (text += chunk.toString()));
    socket.on('error', (error) => {
      fail(errorMessage(error));
    });
    socket.on('close', () => {
      const lines = text.split('\r\n').filter(Boolean);
      const refused = lines.find((line) => /^[45]\d\d /.test(line));
      if (refused) reject(new TorfleetError('RUNTIME', 'waiting', `tor control ${socketPath} refused: ${refused}`));
      else resolve(lines);
    });
  });
}
