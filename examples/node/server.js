// The Node.js example tenant: a dependency-free node:http server that reports its Launchplane
// runtime identity on all three surfaces runtime-identity verifies. See README.md.
//
//   PORT=8080 LAUNCHPLANE_RUNTIME_IDENTITY_JSON='{...}' node examples/node/server.js
//
// It follows the project's tenant process protocol: it listens on $HOST:$PORT (default
// 127.0.0.1:8080; PORT=0 picks a free port), prints exactly one line to stdout,
// "listening on http://<host>:<port>", and stops cleanly on SIGTERM or SIGINT.

import { createServer } from 'node:http';
import { fromEnv, jsonAnswer, WELL_KNOWN_PATH } from './runtime-identity.js';

const rt = fromEnv(process.env);
// Say what was read, never the env text; stderr, so stdout keeps its one line.
console.error(`runtime identity ${rt.state}: ${rt.reason}`);

// The health body embeds the identity's canonical JSON as is, so the health surface carries the
// very bytes the digest header stands for.
const healthBody = '{"status":"ok","runtime_identity":' + rt.healthValue + '}';

function send(res, { status, headers, body }) {
  res.writeHead(status, headers);
  res.end(body); // Node sends no body for HEAD
}

const server = createServer((req, res) => {
  rt.setHeaders(res); // every response carries the identity headers
  const path = new URL(req.url ?? '/', 'http://tenant.invalid').pathname;
  const readOnly = req.method === 'GET' || req.method === 'HEAD';
  if (path === WELL_KNOWN_PATH) {
    send(res, rt.wellKnown(req.method));
  } else if (path === '/api/health' && readOnly) {
    send(res, jsonAnswer(200, healthBody));
  } else if (path === '/' && readOnly) {
    const text = `runtime identity: ${rt.state}\n` +
      (rt.state === 'ok' ? `deployment: ${rt.identity.deployment_record_id}\ndigest: ${rt.digest}\n` : '');
    res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' });
    res.end(text);
  } else {
    send(res, jsonAnswer(404, '{"error":"not found"}'));
  }
});

const host = process.env.HOST || '127.0.0.1';
const port = process.env.PORT === undefined || process.env.PORT === '' ? 8080 : Number(process.env.PORT);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`node tenant: PORT=${JSON.stringify(process.env.PORT)} is not a port number (0-65535)`);
  process.exit(1);
}

server.on('error', (err) => {
  console.error(`node tenant: ${err.message}`);
  process.exit(1);
});

server.listen(port, host, () => {
  const { port: bound } = server.address();
  const shown = host.includes(':') ? `[${host}]` : host;
  process.stdout.write(`listening on http://${shown}:${bound}\n`);
});

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => {
    server.close(() => process.exit(0));
    server.closeIdleConnections();
  });
}
