import { parseEndpoint } from './ip-address.js';

/**
 * What tor would refuse in a DirAuthority line whose shape the schema has accepted
 * (`NICKNAME [FLAGS] IPV4:DIRPORT FINGERPRINT`): each address parsed as a real IP literal,
 * each port 1-65535. Returns the problems, empty when tor will take the line.
 */
export function dirAuthorityProblems(line: string): string[] {
  const problems: string[] = [];
  const words = line.split(' ');
  const endpoint = words.find((word, i) => i > 0 && !word.includes('=') && word.includes(':'));
  if (endpoint === undefined || parseEndpoint(endpoint)?.family !== 4) {
    problems.push('the IPV4:DIRPORT of this DirAuthority line is not a valid address and port');
  }
  for (const word of words.slice(1)) {
    const [flag, value = ''] = word.split('=', 2) as [string, string?];
    if (flag === 'orport' && !isPort(value)) problems.push(`orport=${value} is not a port (1-65535)`);
    if (flag === 'ipv6' && parseEndpoint(value)?.family !== 6) {
      problems.push(`ipv6=${value} is not an [IPV6]:PORT address with a port 1-65535`);
    }
  }
  return problems;
}

function isPort(text: string): boolean {
  return /^[1-9][0-9]{0,4}$/.test(text) && Number(text) <= 65535;
}
