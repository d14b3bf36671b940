import { fork } from 'node:child_process';
import { TorfleetError, type ErrorCode, type ErrorDisposition } from '../errors.js';
import { FleetValidationError, type FleetIssue } from '../fleet/fleet-issue.js';
import type { FleetWatch } from '../service/fleet-watch-runnable.js';
import type { Settings } from '../settings.js';
import { fromWire, type GatewayInput, type GatewayInputWire } from './gateway-input.js';

/** One read of the fleet for `torfleet gateway`: its revision and, when that differs from the last, its input. */
export interface GatewayFleetRead {
  readonly revision: string;
  /** Absent when the revision is the one asked about (nothing parsed). */
  readonly fleet?: {
    readonly input: GatewayInput;
    readonly warnings: readonly FleetIssue[];
    readonly pools: number;
  };
  /** What to watch for changes of the source the settings name. */
  readonly watch: FleetWatch;
}

/**
 * Reads the fleet source and, unless its revision is `lastRevision`, parses and validates it into the gateway
 * input; throws what the source or the fleet loader throws.
 */
export type GatewayFleetReader = (lastRevision: string | undefined) => Promise<GatewayFleetRead>;

/** The request the reader child takes (over its IPC channel, structured clone). */
export interface ReadRequest {
  readonly settings: Settings;
  readonly corporate: boolean;
  readonly lastRevision: string | undefined;
}

/** The reader child's one answer. */
export type ReadAnswer =
  | {
      readonly ok: true;
      readonly revision: string;
      readonly watch: FleetWatch;
      readonly fleet?: {
        readonly input: GatewayInputWire;
        readonly warnings: readonly FleetIssue[];
        readonly pools: number;
      };
    }
  | { readonly ok: false; readonly error: WireError };

/** An error as it crosses back: a fleet's issues, another TorfleetError, or anything else (a bug). */
export type WireError =
  | { readonly kind: 'invalid'; readonly issues: readonly FleetIssue[] }
  | {
      readonly kind: 'torfleet';
      readonly code: ErrorCode;
      readonly disposition: ErrorDisposition;
      readonly message: string;
    }
  | { readonly kind: 'other'; readonly message: string; readonly stack: string | undefined };

export function toWireError(error: unknown): WireError {
  if (error instanceof FleetValidationError) return { kind: 'invalid', issues: error.issues };
  if (error instanceof TorfleetError) {
    // the one line errorMessage() gives, cause included (the cause itself does not cross)
    const { cause } = error;
    const message =
      cause instanceof Error && !error.message.includes(cause.message)
        ? `${error.message}: ${cause.message}`
        : error.message;
    return { kind: 'torfleet', code: error.code, disposition: error.disposition, message };
  }
  if (error instanceof Error) return { kind: 'other', message: error.message, stack: error.stack };
  return { kind: 'other', message: String(error), stack: undefined };
}

/** The error the gateway throws for the child's: the same class (for a fleet's issues) and the same message. */
export function fromWireError(wire: WireError): Error {
  switch (wire.kind) {
    case 'invalid':
      return new FleetValidationError(wire.issues);
    case 'torfleet':
      return new TorfleetError(wire.code, wire.disposition, wire.message);
    case 'other': {
      const error = new Error(wire.message);
      if (wire.stack !== undefined) error.stack = wire.stack;
      return error;
    }
  }
}

/** How long one read may take before the child is killed (a git fetch has its own, shorter, timeout). */
const READ_TIMEOUT_MS = 120_000;

/**
 * Reads and parses the fleet in a short-lived child process (fleet-reader-child.js) that hands back the
 * wire form: the fleet sources (simple-git), the YAML parser, ajv and the compiled schema never stay in the
 * gateway's process (measured: ~8 MB of RSS less, idle). `env` is the child's whole environment (the
 * fleet's `${VAR}`s are substituted from it), `settings` name the source.
 */
export function childProcessReader(
  env: Readonly<Record<string, string | undefined>>,
  settings: Settings,
  corporate: boolean,
): GatewayFleetReader {
  const script = new URL('./fleet-reader-child.js', import.meta.url);
  return (lastRevision) =>
    new Promise<GatewayFleetRead>((resolve, reject) => {
      const child = fork(script, [], {
        env: { ...env },
        execArgv: [],
        serialization: 'advanced',
        stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
        timeout: READ_TIMEOUT_MS,
      });
      let stderr = '';
      child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
        if (stderr.length < 4096) stderr += chunk;
      });
      let answer: ReadAnswer | undefined;
      child.once('message', (message) => {
        answer = message as ReadAnswer;
      });
      child.once('error', reject);
      child.once('exit', (code, signal) => {
        if (answer?.ok === true) {
          const { revision, watch, fleet } = answer;
          resolve({ revision, watch, ...(fleet && { fleet: { ...fleet, input: fromWire(fleet.input) } }) });
        } else if (answer) {
          reject(fromWireError(answer.error));
        } else {
          const why = signal ? `signal ${signal}` : `exit code ${String(code)}`;
          const said = stderr.trim().split('\n')[0];
          reject(
            new TorfleetError(
              'RUNTIME',
              'generic',
              `the fleet reader process ended without an answer (${why})${said ? `: ${said}` : ''}`,
            ),
          );
        }
      });
      const request: ReadRequest = { settings, corporate, lastRevision };
      child.send(request);
    });
}
