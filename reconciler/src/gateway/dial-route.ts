import type { GatewayContext, RoutingView } from './gateway-context.js';
import { dialFailureAnswer, type DialFailureAnswer } from './dial-failure.js';
import { DialError, type DialRequest, type DialResult } from './dial-types.js';
import type { GatewayResult } from './gateway-metrics.js';
import type { Route, Target } from './route-types.js';

export type DialOutcome =
  | { readonly ok: true; readonly dialed: DialResult }
  | {
      readonly ok: false;
      readonly result: GatewayResult;
      readonly answer: DialFailureAnswer;
      /** The answer's text and the dial's redacted message. */
      readonly message: string;
    };

export interface RouteDial {
  readonly route: Route;
  readonly session: string | null;
  readonly label: string;
  readonly target: Target;
  readonly purpose: DialRequest['purpose'];
  /** Aborted when the client goes away. */
  readonly signal: AbortSignal;
}

/** One dial through the dialer: the connect time observed, any failure mapped and redacted, never a throw. */
export async function dialRoute(context: GatewayContext, view: RoutingView, dial: RouteDial): Promise<DialOutcome> {
  const signal = AbortSignal.any([dial.signal, context.stopping]);
  try {
    const dialed = await context.dialer.dial({
      route: dial.route,
      session: dial.session,
      target: dial.target,
      purpose: dial.purpose,
      corporate: view.table.corporate,
      signal,
    });
    if (signal.aborted) {
      dialed.socket.destroy();
      return failure(view, 'aborted', 'the client went away during the dial');
    }
    context.metrics.connectDuration(dial.label, dialed.connectMs / 1000);
    return { ok: true, dialed };
  } catch (error) {
    if (error instanceof DialError) return failure(view, error.reason, error.message);
    return failure(view, null, error instanceof Error ? error.message : String(error));
  }
}

function failure(view: RoutingView, reason: DialError['reason'] | null, detail: string): DialOutcome {
  const answer = dialFailureAnswer(reason);
  return { ok: false, result: reason ?? 'error', answer, message: view.redactor.redact(`${answer.text}: ${detail}`) };
}
