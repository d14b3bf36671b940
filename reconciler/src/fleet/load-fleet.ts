import { TorfleetError } from '../errors.js';
import { FileReadError, readRegularFile } from '../fs/read-regular-file.js';
import { safeMessage } from './display-text.js';
import { EnvOrigins } from './env-origin.js';
import { substituteEnv } from './env-substitution.js';
import { FleetValidationError, type FleetIssue } from './fleet-issue.js';
import {
  DEFAULT_BIND,
  DEFAULT_ROTATE_EVERY,
  DEFAULT_TOR_IMAGE,
  type Fleet,
  type FleetCapacity,
  type PoolSpec,
} from './fleet-types.js';
import { buildGateway } from './gateway-spec.js';
import { checkGeoIpFile, type GeoIpFileCheck } from './geoip-file-check.js';
import type { RawFleet, RawPool } from './raw-fleet.js';
import { validateAgainstSchema } from './schema-validation.js';
import { Secret } from './secret.js';
import { checkSemantics, rotateEverySeconds } from './semantic-checks.js';
import { parseYamlDocument } from './yaml-document.js';

/** Largest fleet file accepted. */
export const MAX_FLEET_BYTES = 1024 * 1024;

export interface FleetLoadOptions {
  /** Where `${NAME}` values come from (the reconciler's environment). */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** When a node database is at hand: reject counts it could never satisfy. */
  readonly capacity?: FleetCapacity | undefined;
  /** How `tor.geoipFile` is checked: `required` (the default: before applying) or `if-readable` (validate). */
  readonly geoipFile?: GeoIpFileCheck | undefined;
}

export interface LoadedFleet {
  readonly fleet: Fleet;
  /** Problems that do not stop the fleet from being applied (a public bind, an exclude with no effect). */
  readonly warnings: readonly FleetIssue[];
  /**
   * A located issue about the value at `path`, found after loading (tor's own check of a torrc):
   * its message passes the same scrub as every other, so no value from the environment shows.
   */
  readonly issueAt: (path: readonly (string | number)[], message: string) => FleetIssue;
}

/**
 * Parses and validates a fleet document. Every problem found is reported together in one
 * FleetValidationError; nothing downstream ever sees an unchecked value.
 */
export function parseFleet(file: string, text: string, options: FleetLoadOptions): LoadedFleet {
  if (Buffer.byteLength(text, 'utf8') > MAX_FLEET_BYTES) throw tooLarge(file);
  const parsed = parseYamlDocument(file, text);
  if (!parsed.ok) throw invalid(parsed.issues, new EnvOrigins([]));
  const { document } = parsed;

  const substituted = substituteEnv(document, options.env);
  const origins = new EnvOrigins(substituted.substitutions);
  if (substituted.issues.length > 0) throw invalid(substituted.issues, origins);

  const schemaIssues = validateAgainstSchema(document, substituted.value, origins);
  if (schemaIssues.length > 0) throw invalid(schemaIssues, origins);

  const raw = substituted.value as RawFleet;
  const semantic = checkSemantics(raw, { document, origins, capacity: options.capacity });
  const geoipFile = raw.tor?.geoipFile;
  if (typeof geoipFile === 'string' && !semantic.issues.some((issue) => issue.path === 'tor.geoipFile')) {
    const finding = checkGeoIpFile(geoipFile, options.geoipFile ?? 'required');
    if (finding.kind !== 'ok') {
      const issue = document.issueAt(['tor', 'geoipFile'], finding.message);
      (finding.kind === 'error' ? semantic.issues : semantic.warnings).push(issue);
    }
  }
  if (semantic.issues.length > 0) throw invalid(semantic.issues, origins);
  return {
    fleet: buildFleet(raw),
    warnings: semantic.warnings.map((w) => finished(w, origins)),
    issueAt: (path, message) => finished(document.issueAt(path, message), origins),
  };
}

/**
 * The last step of every message: no substituted text (whatever path it took), no control
 * character, no line of unbounded length.
 */
function finished(issue: FleetIssue, origins: EnvOrigins): FleetIssue {
  return { ...issue, path: safeMessage(issue.path, 200), message: safeMessage(origins.scrub(issue.message), 600) };
}

function invalid(issues: readonly FleetIssue[], origins: EnvOrigins): FleetValidationError {
  return new FleetValidationError(issues.map((issue) => finished(issue, origins)));
}

/** Reads a fleet file (a regular file of at most 1 MiB) and parses it. */
export async function loadFleetFile(file: string, options: FleetLoadOptions): Promise<LoadedFleet> {
  return parseFleet(file, await readFleetFile(file), options);
}

/** A fleet file's text; a FIFO, device, directory or /proc path is refused before anything is read. */
export async function readFleetFile(file: string): Promise<string> {
  try {
    return (await readRegularFile(file, MAX_FLEET_BYTES)).toString('utf8');
  } catch (error) {
    if (error instanceof FileReadError && error.reason === 'too-large') throw tooLarge(file);
    const why = error instanceof FileReadError ? error.message : String(error);
    throw new TorfleetError('FLEET_UNREADABLE', 'stalled', `cannot read fleet file ${file}; check the path: ${why}`, {
      cause: error,
    });
  }
}

function tooLarge(file: string): FleetValidationError {
  return new FleetValidationError([
    {
      file,
      path: '',
      line: 1,
      column: 1,
      message: `the file is larger than ${MAX_FLEET_BYTES} bytes (1 MiB); a fleet file is never that large`,
    },
  ]);
}

function buildFleet(raw: RawFleet): Fleet {
  const tor = raw.tor ?? {};
  const proxy = tor.httpsProxy ?? null;
  return {
    apiVersion: raw.apiVersion,
    kind: raw.kind,
    tor: {
      image: tor.image ?? DEFAULT_TOR_IMAGE,
      dirAuthorities: tor.dirAuthorities ?? [],
      testingNetwork: tor.testingNetwork ?? false,
      geoipFile: tor.geoipFile ?? null,
      httpsProxy: proxy && {
        address: proxy.address,
        auth: proxy.auth === undefined ? null : new Secret(proxy.auth),
      },
      disableNetwork: tor.disableNetwork ?? false,
    },
    pools: raw.pools.map(buildPool),
    gateway: raw.gateway ? buildGateway(raw.gateway) : null,
    broker: { regions: { ...(raw.broker?.regions ?? {}) } },
  };
}

function buildPool(raw: RawPool): PoolSpec {
  return {
    name: raw.name,
    geo: raw.geo,
    exclude: raw.exclude ?? [],
    mode: raw.mode,
    count: raw.count,
    basePort: raw.basePort,
    bind: raw.bind ?? DEFAULT_BIND,
    rotateEverySeconds: raw.mode === 'rotating' ? rotateEverySeconds(raw.rotateEvery ?? DEFAULT_ROTATE_EVERY) : null,
    placement: { constraints: (raw.placement?.constraints ?? []).map((constraint) => constraint.replaceAll(' ', '')) },
    packing: raw.packing ? { proxiesPerTor: raw.packing.proxiesPerTor } : null,
  };
}
