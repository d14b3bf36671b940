/** Many tunnels held open at once (each CONNECT + one GET, then idle), to read the proxy's RSS under them. */
import type net from 'node:net';
import { getOverTunnel, openTunnel, type Origin, type ProxyAddress } from './tunnel-client.js';

const OPENING_IN_FLIGHT = 50;

/** Opens tunnels until `count` are held (50 opening at a time); throws with the first failure if one fails. */
export async function holdTunnels(
  proxy: ProxyAddress,
  origin: Origin,
  count: number,
  held: net.Socket[],
): Promise<void> {
  let next = held.length;
  const worker = async (): Promise<void> => {
    while (next < count) {
      next++;
      const tunnel = await openTunnel(proxy, origin);
      held.push(tunnel.socket);
      await getOverTunnel(tunnel.socket, origin, '/1k');
    }
  };
  await Promise.all(Array.from({ length: OPENING_IN_FLIGHT }, worker));
}

export function closeTunnels(held: net.Socket[]): void {
  for (const socket of held.splice(0)) socket.destroy();
}
