import { dirAuthorityProblems } from '../fleet/dir-authority.js';
import type { TorSettings } from '../fleet/fleet-types.js';
import { parseEndpoint } from '../fleet/ip-address.js';
import type { Guard } from './torrc-template.js';

// Second gate after fleet validation: every value is re-checked right where it enters the torrc.
export const FINGERPRINT = /^[0-9A-F]{40}$/;
export const COUNTRY = /^[A-Z]{2}$/;
export const PATH = /^\/[A-Za-z0-9._/-]+$/;
export const POOL_NAME = /^[a-z][a-z0-9-]{0,30}$/;
const PROXY_ADDRESS = /^(?:[0-9]{1,3}(?:\.[0-9]{1,3}){3}|\[[0-9A-Fa-f:.]{2,45}\]):[0-9]{1,5}$/;
const AUTH = /^[\x21\x23-\x39\x3B-\x5B\x5D-\x7E]+:[\x21\x23-\x5B\x5D-\x7E]*$/;
const DIR_AUTHORITY =
  /^[A-Za-z0-9]{1,19}( [A-Za-z0-9=:.[\]-]+)* [0-9.]+:[0-9]{1,5}( [0-9A-Fa-f]{4}){0,9} ?[0-9A-Fa-f]{4,40}$/;

/** `MaxMemInQueues` as tor takes it: whole megabytes, at least 1. */
export function maxMemInQueues(megabytes: number): string {
  return `${Math.max(1, Math.floor(megabytes))} MB`;
}

/** Which Tor network, and how to reach it: the same lines for a proxy's own tor and a shared tor. */
export function networkLines(tor: TorSettings, guard: Guard): string[] {
  const lines: string[] = [];
  if (tor.disableNetwork) lines.push('DisableNetwork 1');
  if (tor.dirAuthorities.length > 0) {
    if (tor.testingNetwork) lines.push('TestingTorNetwork 1');
    lines.push('UseDefaultFallbackDirs 0');
    for (const authority of tor.dirAuthorities) {
      const valid = (line: string): boolean => dirAuthorityProblems(line).length === 0;
      lines.push(`DirAuthority ${guard.parse(authority, DIR_AUTHORITY, 'DirAuthority line', valid)}`);
    }
  }
  if (tor.httpsProxy) {
    const address = tor.httpsProxy.address;
    const valid = (text: string): boolean => parseEndpoint(text) !== undefined;
    lines.push(`HTTPSProxy ${guard.parse(address, PROXY_ADDRESS, 'HTTPS proxy address', valid)}`);
    const auth = tor.httpsProxy.auth?.reveal();
    if (auth !== undefined) {
      // Quoted so that a '#' in the password is not a comment; the pattern excludes '"' and '\'.
      if (!AUTH.test(auth)) guard.refuse('the HTTPS proxy credential has characters a torrc cannot hold');
      lines.push(`HTTPSProxyAuthenticator "${auth}"`);
    }
  }
  return lines;
}
