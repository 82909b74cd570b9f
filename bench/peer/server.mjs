// The Node peer of the HTTP benchmark: graphql-http's handler on node:http, graphql-js
// executing schema.mjs (a subset of contentapi's schema) over a JSON dump of the same content.
//
//   node server.mjs --data corpus.json --port 4000 [--host 127.0.0.1]
//
// Every request is parsed, validated and executed; nothing is cached. See schema.mjs for
// the dump, the fields implemented and the naive search.

import { createServer } from 'node:http';
import { createHandler } from 'graphql-http/lib/use/http';
import { HEALTHZ, load, makeSchema, serverArgs } from './schema.mjs';

const args = serverArgs('server.mjs');
const content = load(args.data);
const handler = createHandler({ schema: makeSchema(content) });
const server = createServer((req, res) => {
  const path = req.url.split('?', 1)[0];
  if (path === '/graphql') {
    handler(req, res).catch((err) => {
      console.error(err);
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  } else if (path === '/healthz') {
    res.writeHead(200, { 'content-type': 'application/json' }).end(HEALTHZ);
  } else {
    res.writeHead(404).end();
  }
});
server.keepAliveTimeout = 65_000;
server.listen(args.port, args.host, () => {
  console.log(`peer: ${content.treatments.length} treatments on http://${args.host}:${args.port}/graphql`);
});
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => server.close(() => process.exit(0)).closeAllConnections());
}
