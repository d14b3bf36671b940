import net from 'node:net';

/** A loopback port the kernel just handed out (listen on 0, close): for peers that need a port in a config file. */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  await new Promise<void>((resolve) => {
    server.close(() => {
      resolve();
    });
  });
  if (address === null || typeof address === 'string') throw new Error('free port: listen(0) gave no TCP address');
  return address.port;
}

/** Resolves once `port` accepts a TCP connection; rejects after `deadlineMs` (or when `alive()` turns false). */
export async function waitForPort(port: number, deadlineMs: number, alive: () => boolean): Promise<void> {
  const until = Date.now() + deadlineMs;
  for (;;) {
    const accepted = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => {
        resolve(false);
      });
    });
    if (accepted) return;
    if (!alive()) throw new Error(`port ${port}: the process exited before accepting connections`);
    if (Date.now() > until) throw new Error(`port ${port}: no connection accepted within ${deadlineMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}
