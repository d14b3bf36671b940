import type { ErrorObject } from 'ajv/dist/2020.js';

/** A JSON body a service refuses: the field (a dotted path, `[2].event` in a batch) and what to send instead. */
export interface BodyProblem {
  readonly field: string;
  readonly message: string;
}

/** `name` inside `prefix` (`[2]` + `event` → `[2].event`). */
export function fieldAt(prefix: string, name: string): string {
  if (prefix === '') return name;
  return name === '' ? prefix : `${prefix}.${name}`;
}

/** The first schema error as a field and an instruction (the schema's own description says what is wanted). */
export function schemaProblem(
  errors: readonly ErrorObject[] | null | undefined,
  prefix: string,
  anyOfMessage = 'give one of the fields this body needs',
): BodyProblem {
  // The branches of `anyOf` (which proxy) fail first, each with its own `required`: the anyOf says it as a whole.
  const error = errors?.find((e) => e.keyword === 'anyOf') ?? errors?.[0];
  if (!error) return { field: prefix, message: 'not a valid body' };
  const path = error.instancePath.split('/').slice(1).join('.');
  const at = (name: string): string => fieldAt(prefix, [path, name].filter(Boolean).join('.'));
  const params = error.params as Record<string, unknown>;
  const description = (error.parentSchema as { description?: string } | undefined)?.description;
  switch (error.keyword) {
    case 'required':
      return { field: at(String(params.missingProperty)), message: 'missing: this body needs this field' };
    case 'anyOf':
      return { field: fieldAt(prefix, path), message: anyOfMessage };
    case 'additionalProperties':
      return { field: at(String(params.additionalProperty)), message: 'not a field of this body' };
    case 'type':
      return path === ''
        ? { field: prefix, message: 'must be a JSON object' }
        : {
            field: fieldAt(prefix, path),
            message: `must be ${String(params.type)}${description ? `: ${description}` : ''}`,
          };
    default:
      return {
        field: fieldAt(prefix, path),
        message: description ?? error.message ?? 'is not valid',
      };
  }
}
