import { packagePath } from '../package-root.js';

/**
 * Where the fleet schema is, in a module of its own: the country list (nodes/country-codes.ts) reads the file
 * without loading ajv, so the gateway process (which never validates a fleet itself) stays small.
 */
export const FLEET_SCHEMA_PATH = packagePath('schemas', 'fleet.schema.json');
