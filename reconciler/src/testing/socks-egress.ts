import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * The address an echo server (the private network's `echoUrl`) saw, fetching it through the SOCKS port
 * `127.0.0.1:port` with curl (which resolves nothing itself); undefined when the fetch failed.
 */
export async function socksEgress(port: number, echoUrl: string): Promise<string | undefined> {
  try {
    const { stdout } = await run('curl', ['-s', '-m', '10', '--socks5-hostname', `127.0.0.1:${port}`, echoUrl]);
    return (JSON.parse(stdout) as { IP?: string }).IP;
  } catch {
    return undefined;
  }
}
