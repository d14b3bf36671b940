/**
 * The private network's echo server as a program of its own (the demo keeps it running after its launcher exits):
 * `node echo-server.js PORT` answers every request with `{"IP": "<peer address>"}` on 127.0.0.1:PORT.
 */
import { createServer } from 'node:http';

const port = Number(process.argv[2]);
createServer((request, response) => {
  response
    .writeHead(200, { 'content-type': 'application/json' })
    .end(JSON.stringify({ IP: request.socket.remoteAddress?.replace(/^::ffff:/, '') }));
}).listen(port, '127.0.0.1');
