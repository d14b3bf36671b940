import { readFileSync } from 'node:fs';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import { checkTargetHost } from '../gateway/target-address.js';
import { packagePath } from '../package-root.js';
import { schemaProblem, type BodyProblem } from '../schema-problem.js';

/** A parsed `POST /v1/requests` body (schemas/torrent/job-request.schema.json). */
export interface JobRequest {
  readonly url: URL;
  readonly method: 'GET' | 'POST';
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string | null;
  readonly ttlSeconds: number;
  readonly route: string;
}

export type JobRequestResult =
  { readonly ok: true; readonly value: JobRequest } | { readonly ok: false; readonly problem: BodyProblem };

export const DEFAULT_TTL_SECONDS = 3600;
/** Headers torfleet sets itself for the fetch: a client's would break the framing or the route. */
const OWN_HEADERS = new Set([
  'host',
  'content-length',
  'transfer-encoding',
  'connection',
  'upgrade',
  'te',
  'trailer',
  'keep-alive',
  'proxy-authorization',
  'proxy-connection',
]);

let validator: ValidateFunction | undefined;

function compiled(): ValidateFunction {
  validator ??= new Ajv2020({ allErrors: false, verbose: true, strict: true, allowUnionTypes: true }).compile(
    JSON.parse(readFileSync(packagePath('schemas', 'torrent', 'job-request.schema.json'), 'utf8')) as object,
  );
  return validator;
}

export function parseJobRequest(body: unknown): JobRequestResult {
  const validate = compiled();
  if (!validate(body)) return { ok: false, problem: schemaProblem(validate.errors, '') };
  const value = body as {
    url: string;
    method?: 'GET' | 'POST';
    headers?: Record<string, string>;
    body?: string | null;
    ttl?: number;
    route: string;
  };
  let url: URL;
  try {
    url = new URL(value.url);
  } catch {
    return { ok: false, problem: { field: 'url', message: 'not a URL: send an absolute http:// or https:// URL' } };
  }
  if (url.username !== '' || url.password !== '') {
    return {
      ok: false,
      problem: {
        field: 'url',
        message: 'credentials in the URL are refused (they would be stored with the job): send them in headers',
      },
    };
  }
  if (!carried(url)) {
    return {
      ok: false,
      problem: {
        field: 'url',
        message:
          'a route cannot carry this host and port: give a host name (letters, digits, "-", "_", "."; at most 255 characters) or an IP literal, and a port from 1',
      },
    };
  }
  const headers = value.headers ?? {};
  const own = Object.keys(headers).find((name) => OWN_HEADERS.has(name.toLowerCase()));
  if (own !== undefined) {
    return {
      ok: false,
      problem: { field: `headers.${own}`, message: 'torfleet sets this header itself for the fetch: leave it out' },
    };
  }
  const method = value.method ?? 'GET';
  if (method === 'GET' && typeof value.body === 'string') {
    return { ok: false, problem: { field: 'body', message: 'a GET carries no body: send method POST, or body null' } };
  }
  return {
    ok: true,
    value: {
      url,
      method,
      headers,
      body: value.body ?? null,
      ttlSeconds: value.ttl ?? DEFAULT_TTL_SECONDS,
      route: value.route,
    },
  };
}

/** Whether a proxy on a route can be asked for the URL's host and port (SOCKS5 carries at most 255 bytes of name). */
function carried(url: URL): boolean {
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  if (url.port === '0') return false;
  try {
    checkTargetHost({ host, port: 1 });
    return true;
  } catch {
    return false;
  }
}
