import { errorMessage } from '../errors.js';
import { torHealth, type TorHealth } from '../tor-control/control-client.js';
import { torLogTail } from '../tor-control/tor-log.js';

/** What a proxy's tor said of itself when its egress check did not pass: shown with the check, bounded. */
export interface EgressDiagnosis {
  /** Its bootstrap state through the ControlSocket, or null when that could not be read. */
  readonly bootstrap: TorHealth | null;
  /** Why the ControlSocket could not be read (tor not started yet, ...), or null. */
  readonly bootstrapError: string | null;
  /** The last lines of its tor log (at most 20, control characters escaped). */
  readonly logTail: readonly string[];
}

/** Reads a proxy's diagnosis from its tor data directory (a host path for both runtimes); never throws. */
export async function diagnoseTor(dataDirectory: string): Promise<EgressDiagnosis> {
  const [bootstrap, logTail] = await Promise.all([
    torHealth(dataDirectory).then(
      (health) => ({ health, error: null }),
      (error: unknown) => ({ health: null, error: errorMessage(error) }),
    ),
    torLogTail(dataDirectory).catch((error: unknown) => [`(the tor log cannot be read: ${errorMessage(error)})`]),
  ]);
  return { bootstrap: bootstrap.health, bootstrapError: bootstrap.error, logTail };
}

/**
 * The diagnosis of a proxy on another swarm node: its tor cannot be asked from here, so its bootstrap state is
 * unknown and, like any tor that does not answer, a failed check never blames its exit (an unreachable node
 * or a firewall must not get every exit of its proxies set aside).
 */
export function remoteDiagnosis(words: string): EgressDiagnosis {
  return { bootstrap: null, bootstrapError: words, logTail: [] };
}

/**
 * Whether a failed check says something about the exit: only a tor that has finished bootstrapping could
 * have built a circuit to it. A tor still bootstrapping (or not answering on its ControlSocket) is unhealthy
 * itself; setting its exit aside would not help it. Without a diagnosis the failure is the exit's.
 */
export function blamesExit(diagnosis: EgressDiagnosis | null): boolean {
  return diagnosis === null || diagnosis.bootstrap?.bootstrapProgress === 100;
}

/** One line for logs and messages: `bootstrapped 50% (loading_descriptors: Loading relay descriptors)`. */
export function describeBootstrap(diagnosis: EgressDiagnosis): string {
  const b = diagnosis.bootstrap;
  if (!b) return `bootstrap state unknown: ${diagnosis.bootstrapError ?? 'no answer'}`;
  const problem = b.bootstrapProblem ? `; problem: ${b.bootstrapProblem}` : '';
  return `bootstrapped ${b.bootstrapProgress}% (${b.bootstrapTag}: ${b.bootstrapSummary})${problem}`;
}

/**
 * A packed proxy's diagnosis: its shared tor's (data directory, log), and while no controller is connected to
 * that tor, no bootstrap state: streams are refused because nothing attaches them, which says nothing of its
 * exit (never set aside for it). With a controller connected, a failed check is its exit's, as for any proxy.
 */
export async function diagnosePacked(
  sharedTorDataDirectory: string,
  controller: { readonly connected: boolean; readonly lastError: string | null },
): Promise<EgressDiagnosis> {
  const diagnosis = await diagnoseTor(sharedTorDataDirectory);
  if (controller.connected) return diagnosis;
  const why = controller.lastError ?? 'no controller serves it';
  return { ...diagnosis, bootstrap: null, bootstrapError: `its shared tor's controller is not connected: ${why}` };
}
