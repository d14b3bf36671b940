import { TorfleetError } from '../errors.js';
import { FileReadError, readRegularFile } from '../fs/read-regular-file.js';
import { samePath, substituteEnv, type Substitution } from './env-substitution.js';
import { FleetValidationError, type FleetIssue } from './fleet-issue.js';
import {
  DEFAULT_BIND,
  DEFAULT_ROTATE_EVERY,
  DEFAULT_TOR_IMAGE,
  type Fleet,
  type FleetCapacity,
  type PoolSpec,
} from './fleet-types.js';
import type { RawFleet, RawPool } from './raw-fleet.js';
import { validateAgainstSchema } from './schema-validation.js';
import { Secret } from './secret.js';
import { checkSemantics, parseDuration } from './semantic-checks.js';
import { parseYamlDocument } from './yaml-document.js';

/** Largest fleet file accepted. */
export const MAX_FLEET_BYTES = 1024 * 1024;

export interface FleetLoadOptions {
  /** Where `${NAME}` values come from (the reconciler's environment). */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** When a node database is at hand: reject counts it could never satisfy. */
  readonly capacity?: FleetCapacity | undefined;
}

export interface LoadedFleet {
  readonly fleet: Fleet;
  /** Problems that do not stop the fleet from being applied (a public bind, an exclude with no effect). */
  readonly warnings: readonly FleetIssue[];
}

/**
 * Parses and validates a fleet document. Every problem found is reported together in one
 * FleetValidationError; nothing downstream ever sees an unchecked value.
 */
export function parseFleet(file: string, text: string, options: FleetLoadOptions): LoadedFleet {
  if (Buffer.byteLength(text, 'utf8') > MAX_FLEET_BYTES) throw tooLarge(file);
  const parsed = parseYamlDocument(file, text);
  if (!parsed.ok) throw new FleetValidationError(parsed.issues);
  const { document } = parsed;

  const substituted = substituteEnv(document, options.env);
  if (substituted.issues.length > 0) throw new FleetValidationError(substituted.issues);
  const find = (path: readonly (string | number)[]): Substitution | undefined =>
    substituted.substitutions.find((s) => samePath(s.path, path));

  const schemaIssues = validateAgainstSchema(document, substituted.value, (path) => find(path) !== undefined);
  if (schemaIssues.length > 0) throw new FleetValidationError(schemaIssues);

  const raw = substituted.value as RawFleet;
  const semantic = checkSemantics(raw, {
    document,
    isWholeReference: (path) => find(path)?.wholeValue === true,
    capacity: options.capacity,
  });
  if (semantic.issues.length > 0) throw new FleetValidationError(semantic.issues);
  return { fleet: buildFleet(raw), warnings: semantic.warnings };
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
    rotateEverySeconds: raw.mode === 'rotating' ? parseDuration(raw.rotateEvery ?? DEFAULT_ROTATE_EVERY) : null,
  };
}
