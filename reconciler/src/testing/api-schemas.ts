import { readdirSync, readFileSync } from 'node:fs';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsCjs from 'ajv-formats';
import { packagePath } from '../package-root.js';

const addFormats = addFormatsCjs.default;

type AnswerSchema = 'proxies' | 'proxy' | 'status' | 'nodes' | 'error';

let compiled: Map<AnswerSchema, ValidateFunction> | undefined;

/** The API answer schemas of schemas/api/, compiled once. */
function validators(): Map<AnswerSchema, ValidateFunction> {
  if (!compiled) {
    const ajv = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true });
    addFormats(ajv);
    const dir = packagePath('schemas', 'api');
    for (const file of readdirSync(dir)) ajv.addSchema(JSON.parse(readFileSync(`${dir}/${file}`, 'utf8')) as object);
    compiled = new Map();
    for (const name of ['proxies', 'proxy', 'status', 'nodes', 'error'] as const) {
      const validate = ajv.getSchema(`urn:torfleet:schema:api:${name}`);
      if (!validate) throw new Error(`no schema ${name} in schemas/api`);
      compiled.set(name, validate);
    }
  }
  return compiled;
}

/** The schema errors of an API answer; empty when it is valid. */
export function schemaErrors(name: AnswerSchema, body: unknown): string[] {
  const validate = validators().get(name);
  if (!validate) throw new Error(`no schema ${name}`);
  return validate(body) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message ?? ''}`);
}
