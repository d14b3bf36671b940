/** One SocksPort of the shared tor: where it listens and the session group its streams carry. */
export interface SocksPortEntry {
  readonly listen: string;
  readonly sessionGroup: number;
}

/**
 * The SETCONF that makes `ports` tor's whole SocksPort list, one `SocksPort="<listen> SessionGroup=<n>
 * IsolateSOCKSAuth"` value each (tor 0.4.9 takes several values of one key in one SETCONF, each quoted; the
 * flags add to tor's default isolation, which already isolates by SOCKS auth). No ports is `SocksPort=0`:
 * a bare `SETCONF SocksPort` would reset it to tor's default, 127.0.0.1:9050. Values are validated
 * (validatePackedProxies) before they get here; the pattern check below is the last gate against a quote
 * or a line break reaching tor.
 */
export function socksPortCommand(ports: readonly SocksPortEntry[]): string {
  if (ports.length === 0) return 'SETCONF SocksPort=0';
  const values = [...ports]
    .sort((a, b) => a.sessionGroup - b.sessionGroup)
    .map((port) => {
      if (!/^[0-9A-Fa-f:.[\]]+$/.test(port.listen) || !Number.isInteger(port.sessionGroup) || port.sessionGroup < 0) {
        throw new Error(`not a SocksPort to give tor: ${JSON.stringify(port)}`);
      }
      return `SocksPort="${port.listen} SessionGroup=${port.sessionGroup} IsolateSOCKSAuth"`;
    });
  return `SETCONF ${values.join(' ')}`;
}
