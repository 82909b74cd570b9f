// A Node peer of the HTTP benchmark: GraphQL Yoga 5 on node:http with its response cache
// (@graphql-yoga/plugin-response-cache, which is @envelop/response-cache), executing
// schema.mjs (the same schema and resolvers as server.mjs) over a JSON dump of the same
// content.
//
//   node yoga.mjs --data corpus.json --port 4000 [--host 127.0.0.1]
//
// The response cache is global (session: () => null), in memory, entries kept for an hour:
// a request whose document and variables were answered before is answered from the cache.

import { createServer } from 'node:http';
import { createYoga } from 'graphql-yoga';
import { useResponseCache } from '@graphql-yoga/plugin-response-cache';
import { HEALTHZ, load, makeSchema, serverArgs } from './schema.mjs';

const args = serverArgs('yoga.mjs');
const content = load(args.data);
const yoga = createYoga({
  schema: makeSchema(content),
  graphqlEndpoint: '/graphql',
  graphiql: false,
  landingPage: false,
  logging: false,
  plugins: [useResponseCache({ session: () => null, ttl: 3_600_000 })],
});
const server = createServer((req, res) => {
  if (req.url.split('?', 1)[0] === '/healthz') {
    res.writeHead(200, { 'content-type': 'application/json' }).end(HEALTHZ);
  } else {
    yoga(req, res);
  }
});
server.keepAliveTimeout = 65_000;
server.listen(args.port, args.host, () => {
  console.log(`yoga (response cache): ${content.treatments.length} treatments on http://${args.host}:${args.port}/graphql`);
});
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => server.close(() => process.exit(0)).closeAllConnections());
}
