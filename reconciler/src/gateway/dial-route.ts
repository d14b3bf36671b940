import type { Cancel } from './cancel.js';
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
  /** Cancelled when the client goes away; the dial also gives up when the gateway stops. */
  readonly cancel: Cancel;
}

/** One dial through the dialer: the connect time observed, any failure mapped and redacted, never a throw. */
export async function dialRoute(context: GatewayContext, view: RoutingView, dial: RouteDial): Promise<DialOutcome> {
  const { cancel } = dial;
  const unlink = context.stopping.onCancel((reason) => {
    cancel.cancel(reason);
  });
  try {
    const dialed = await context.dialer.dial({
      route: dial.route,
      session: dial.session,
      target: dial.target,
      purpose: dial.purpose,
      corporate: view.table.corporate,
      cancel,
    });
    if (cancel.cancelled) {
      dialed.socket.destroy();
      return failure(view, 'aborted', 'the client went away during the dial');
    }
    context.metrics.connectDuration(dial.label, dialed.connectMs / 1000);
    return { ok: true, dialed };
  } catch (error) {
    if (error instanceof DialError) return failure(view, error.reason, error.message);
    return failure(view, null, error instanceof Error ? error.message : String(error));
  } finally {
    unlink();
  }
}

function failure(view: RoutingView, reason: DialError['reason'] | null, detail: string): DialOutcome {
  const answer = dialFailureAnswer(reason);
  return { ok: false, result: reason ?? 'error', answer, message: view.redactor.redact(`${answer.text}: ${detail}`) };
}
