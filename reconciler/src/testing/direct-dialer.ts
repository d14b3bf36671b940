import { connect, type Socket } from 'node:net';
import { DialError, type Dialer, type DialRequest, type DialResult } from '../gateway/dial-types.js';
import type { Member } from '../gateway/route-types.js';

export interface DirectDialerOptions {
  /** Host names the dialer knows (name → IP literal): a static map, so the test process makes no DNS lookup. */
  readonly hosts?: Readonly<Record<string, string>>;
  /** For `http-forward`: connect to this HTTP proxy instead and ask for absolute form with this authorization. */
  readonly httpUpstream?: { readonly host: string; readonly port: number; readonly authorization: string | null };
  /** A failure to throw instead of dialing (the gateway's mapping of dial failures under test). */
  readonly fail?: (request: DialRequest) => DialError | null;
}

export interface DirectDialer extends Dialer {
  /** Every request as the gateway made it (the target exactly as it arrived). */
  readonly requests: DialRequest[];
  /** The sockets given out, for tests that look at them. */
  readonly sockets: Socket[];
}

const MEMBER: Member = { kind: 'tor', id: 'direct-0', pool: 'direct', host: '127.0.0.1', port: 0 };

/**
 * TESTS ONLY: a dialer that connects straight to the target IP (loopback peers in tests), never product code.
 * A host name is looked up in `hosts` only; an unknown one fails as `target-unreachable`.
 */
export function createDirectDialer(options: DirectDialerOptions = {}): DirectDialer {
  const requests: DialRequest[] = [];
  const sockets: Socket[] = [];
  return {
    requests,
    sockets,
    dial(request: DialRequest): Promise<DialResult> {
      requests.push(request);
      const failure = options.fail?.(request) ?? null;
      if (failure) return Promise.reject(failure);
      const upstream = request.purpose === 'http-forward' ? options.httpUpstream : undefined;
      const host = upstream?.host ?? options.hosts?.[request.target.host] ?? request.target.host;
      if (!/^[\d.]+$|:/.test(host)) {
        return Promise.reject(new DialError('target-unreachable', `the test dialer does not know ${host}`));
      }
      const started = performance.now();
      return new Promise((resolve, reject) => {
        const socket = connect({ host, port: upstream?.port ?? request.target.port });
        sockets.push(socket);
        const abort = (): void => {
          socket.destroy();
          reject(new DialError('aborted', 'aborted'));
        };
        const stopListening = request.cancel.onCancel(abort);
        socket.once('error', (error) => {
          reject(new DialError('refused', error.message, { cause: error }));
        });
        socket.once('connect', () => {
          stopListening();
          socket.pause(); // as the fleet dialer hands sockets over: paused, the reader resumes it
          resolve({
            socket,
            member: MEMBER,
            absoluteForm: upstream !== undefined,
            proxyAuthorization: upstream?.authorization ?? null,
            connectMs: performance.now() - started,
          });
        });
      });
    },
  };
}
