import type { Logger } from '../logger.js';
import {
  DialError,
  type DialFailureReason,
  type Dialer,
  type DialRequest,
  type DialResult,
  type MemberHealthView,
} from './dial-types.js';
import { buildHopChain } from './hop-chain.js';
import { blamesMember } from './hop-error.js';
import { MemberChoice, DEFAULT_SESSIONS, type SessionSettings } from './member-choice.js';
import { MemberHealth, DEFAULT_EJECTION, type EjectionSettings } from './member-health.js';
import { Redactor } from './redact.js';
import type { Member } from './route-types.js';

export interface FleetDialerOptions {
  /** What the runtime and the egress checks say (a member not running, or failing its check, is skipped). */
  readonly health: MemberHealthView;
  /** Milliseconds (Date.now in production). */
  readonly now: () => number;
  /** [0, 1) (Math.random in production): the cool-downs' jitter. */
  readonly random: () => number;
  /** Each step of the way out (a TCP connection, one proxy's handshake) gets this long. */
  readonly connectTimeoutMs: number;
  /** Members tried for one request at most. */
  readonly maxAttempts: number;
  readonly log: Logger;
  readonly ejection?: EjectionSettings;
  readonly sessions?: SessionSettings;
}

export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
export const DEFAULT_MAX_ATTEMPTS = 3;

/**
 * The gateway's Dialer: the route's eligible members (usable, not ejected) in order (sticky session first, else
 * round robin); a failure before the tunnel is up is retried on the next, up to `maxAttempts`. Refusals and
 * timeouts of a member's own proxy count towards ejecting it; "the proxy could not reach the target" does not
 * (another member is still tried: another tor exit may reach it); refused credentials end the dial at once.
 */
export function createFleetDialer(options: FleetDialerOptions): Dialer {
  const passive = new MemberHealth(options.ejection ?? DEFAULT_EJECTION, options.now, options.random);
  const choice = new MemberChoice(options.sessions ?? DEFAULT_SESSIONS, options.now);
  return {
    async dial(request: DialRequest): Promise<DialResult> {
      const started = options.now();
      const { route } = request;
      const usable = route.members.filter((member) => options.health.usable(member));
      const ejected = passive.ejected(usable);
      const eligible = usable.filter((member) => !ejected.has(member));
      const order = choice.order(route, request.session, eligible).slice(0, Math.max(1, options.maxAttempts));
      if (order.length === 0) {
        const why = `${route.members.length} members, ${route.members.length - usable.length} not usable, ${ejected.size} ejected`;
        throw new DialError('no-member', `route ${route.name} has no member to carry this connection (${why})`);
      }
      const failures: { member: Member; error: unknown }[] = [];
      for (const member of order) {
        try {
          const chain = await buildHopChain(member, request, options.connectTimeoutMs);
          passive.success(member);
          choice.remember(route, request.session, member);
          return { ...chain, member, connectMs: options.now() - started };
        } catch (error) {
          if (error instanceof DialError && error.reason === 'aborted') throw error;
          failures.push({ member, error });
          const redactor = redactorFor(request, member);
          const fields = { route: route.name, member: member.id, reason: reasonOf(error) };
          options.log.warn(redactor.redact(`dial through ${member.id} failed: ${messageOf(error)}`), fields);
          if (blamesMember(error)) {
            const cooldown = passive.failure(member);
            if (cooldown !== null) options.log.warn(`member ${member.id} ejected for ${cooldown} ms`, fields);
          }
          if (reasonOf(error) === 'upstream-auth') break;
        }
      }
      throw summarise(request, failures);
    },
  };
}

/** One error for the client: the reason of the most telling failure, and every member's failure, redacted. */
function summarise(request: DialRequest, failures: readonly { member: Member; error: unknown }[]): DialError {
  const reasons = failures.map((failure) => reasonOf(failure.error));
  const reason: DialFailureReason = reasons.includes('upstream-auth')
    ? 'upstream-auth'
    : reasons.includes('target-unreachable')
      ? 'target-unreachable'
      : reasons.every((each) => each === 'timeout')
        ? 'timeout'
        : 'refused';
  const each = failures.map((failure) => redactorFor(request, failure.member).redact(messageOf(failure.error)));
  const tried = `${failures.length} member${failures.length === 1 ? '' : 's'} tried`;
  return new DialError(reason, `route ${request.route.name}: ${tried}: ${each.join('; ')}`);
}

function redactorFor(request: DialRequest, member: Member): Redactor {
  return new Redactor([member.kind === 'upstream' ? member.auth : null, request.corporate?.auth ?? null]);
}

function reasonOf(error: unknown): DialFailureReason {
  return error instanceof DialError ? error.reason : 'refused';
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
