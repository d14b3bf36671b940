import type { IncomingMessage, ServerResponse } from 'node:http';
import type { GatewayContext, RoutingView } from './gateway-context.js';
import { answerText } from './http-answers.js';
import { hostPort } from '../listen-address.js';

const USAGE =
  'This is the torfleet gateway, an HTTP and SOCKS5 proxy: it does not serve pages itself.\n' +
  'Use it as a proxy: curl -x http://ROUTE:TOKEN@HOST:PORT http://example.com/ (or --socks5-hostname HOST:PORT).\n' +
  'Its own pages: GET /proxy.pac (proxy auto-configuration), GET /metrics (Prometheus).';

/** `PROXY host:port` for the address the client reached (never its Host header, never a credential). */
export function pacFile(host: string, port: number, routes: readonly string[]): string {
  const plain = host.startsWith('::ffff:') && host.includes('.') ? host.slice(7) : host;
  const address = hostPort(plain, port);
  const names = routes.slice(0, 40).join(', ');
  return (
    `// torfleet gateway: every URL through ${address}. Routes (proxy username): ${names || '(none)'}\n` +
    `function FindProxyForURL(url, host) {\n  return ${JSON.stringify(`PROXY ${address}`)};\n}\n`
  );
}

/** Origin-form requests to the gateway itself: the PAC file, the metrics, else a short text on how to use it. */
export async function servePage(
  context: GatewayContext,
  view: RoutingView,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const draining = context.draining();
  const path = (req.url ?? '/').split('?')[0];
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    answerText(res, 400, `${USAGE}\n(${req.method ?? '?'} ${path ?? '/'} is not a proxy request.)`, { draining });
  } else if (path === '/proxy.pac') {
    const body = pacFile(req.socket.localAddress ?? '127.0.0.1', req.socket.localPort ?? 0, view.table.names());
    const headers = {
      'Content-Type': 'application/x-ns-proxy-autoconfig',
      ...(draining ? { Connection: 'close' } : {}),
    };
    res.writeHead(200, { ...headers, 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-store' });
    res.end(body);
  } else if (path === '/metrics') {
    const { contentType, text } = await context.metrics.exposition();
    res.writeHead(200, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(text) });
    res.end(text);
  } else {
    answerText(res, 404, USAGE, { draining });
  }
}
