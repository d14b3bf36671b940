/**
 * The HTTP floor of the broker bench: a bare node:http server that reads a POST body, parses it as JSON and answers
 * a fixed JSON answer of a lease's size. What any Node HTTP service costs before it decides anything.
 * `node node-floor-http.js PORT`.
 */
import { createServer } from 'node:http';

const ANSWER = `${JSON.stringify({
  proxy_url: 'socks5h://lease_3qWzXwhm_OIOJ_ipm1j2Nw:x@127.0.0.1:19050',
  strategy: 'power_of_two_choices',
  ttl_seconds: 300,
  fallback_policy: 'fail',
  metadata: { proxy_id: 'us-strict-0', lease_id: 'lease_3qWzXwhm_OIOJ_ipm1j2Nw', region: 'US', health_score: 1 },
})}\n`;

const server = createServer((request, response) => {
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => {
    JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
    response.writeHead(200, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(ANSWER),
    });
    response.end(ANSWER);
  });
});
server.listen(Number(process.argv[2]), '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));
