// A Node peer of the HTTP benchmark: Mercurius on Fastify, executing schema.mjs (the same
// schema and resolvers as server.mjs) over a JSON dump of the same content.
//
//   node mercurius.mjs --data corpus.json --port 4000 [--host 127.0.0.1] [--resolver-cache]
//
// Always `jit: 1`: a query seen once is compiled with graphql-jit on its second request.
// Mercurius's own `cache` option (left at its default, true: an LRU of 1024 queries) holds
// the parsed and validated documents and their compiled JIT code; it is not a response
// cache, and JIT needs it (with `cache: false` nothing is ever compiled). Mercurius has no
// response cache; with --resolver-cache the closest thing is added: the mercurius-cache
// plugin caching the results of the Query fields (treatment, treatments, search) by their
// arguments, in memory, for an hour. Execution of the fields under them and serialisation
// still run on every request.

import Fastify from 'fastify';
import mercurius from 'mercurius';
import mercuriusCache from 'mercurius-cache';
import { HEALTHZ, load, makeSchema, serverArgs } from './schema.mjs';

const args = serverArgs('mercurius.mjs', ['resolver-cache']);
const content = load(args.data);
const app = Fastify({ logger: false, keepAliveTimeout: 65_000 });
await app.register(mercurius, { schema: makeSchema(content), jit: 1, graphiql: false, path: '/graphql' });
if (args['resolver-cache']) {
  await app.register(mercuriusCache, {
    ttl: 3600,
    policy: { Query: { treatment: true, treatments: true, search: true } },
  });
}
app.get('/healthz', (request, reply) => {
  reply.type('application/json').send(HEALTHZ);
});
await app.listen({ port: args.port, host: args.host });
const cached = args['resolver-cache'] ? ' (jit: 1, mercurius-cache)' : ' (jit: 1)';
console.log(`mercurius${cached}: ${content.treatments.length} treatments on http://${args.host}:${args.port}/graphql`);
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => app.close().then(() => process.exit(0)));
}
