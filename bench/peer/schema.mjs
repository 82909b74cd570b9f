// What every Node peer of the HTTP benchmark serves: a subset of contentapi's schema (SDL),
// its resolvers over a JSON dump of the same content, and the peers' command line.
// bench/peer/server.mjs (graphql-http), mercurius.mjs (Fastify + Mercurius) and yoga.mjs
// (GraphQL Yoga) all execute makeSchema(load(path)), so they answer the same thing.
//
// The dump is what bench/throughput.py writes: {"treatments": [...]}, already in
// contentapi's default order (title, case-folded, then slug), each with slug, title,
// summary, html, text, category {name, slug} | null, images [{src, width, height, alt,
// title}] and indications [{name, slug}] (names as merged across pages, as contentapi shows
// them).
//
// Implemented: treatment(slug), treatments(first, after, last, before) with Relay cursors
// encoded exactly as contentapi does, and search(query, first). search is NAIVE: a
// case-insensitive substring match of the whole query against title, summary and text,
// scored by weighted occurrence counts (title 10, summary 4, text 1), ties by slug; the
// snippet is ~120 characters of text around the first match. contentapi uses SQLite FTS5
// with BM25, so search scores and snippets differ; shapes are the same.

import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { buildSchema } from 'graphql';

const MAX_PAGE = 100;
const DEFAULT_PAGE = 20;

export const sdl = /* GraphQL */ `
  interface Node {
    id: ID!
  }

  type PageInfo {
    hasNextPage: Boolean!
    hasPreviousPage: Boolean!
    startCursor: String
    endCursor: String
  }

  type Image implements Node {
    id: ID!
    src: String!
    alt: String
    title: String
    width: Int
    height: Int
    position: Int!
  }

  type Indication implements Node {
    id: ID!
    slug: String!
    name: String!
    treatmentCount: Int!
  }

  type Category implements Node {
    id: ID!
    slug: String!
    name: String!
    treatmentCount: Int!
  }

  type Treatment implements Node {
    id: ID!
    slug: String!
    title: String!
    summary: String
    html: String!
    category: Category
    images: [Image!]!
    indications: [Indication!]!
  }

  type TreatmentEdge {
    cursor: String!
    node: Treatment!
  }

  type TreatmentConnection {
    edges: [TreatmentEdge!]!
    nodes: [Treatment!]!
    pageInfo: PageInfo!
    totalCount: Int!
  }

  type SearchHit {
    treatment: Treatment!
    score: Float!
    snippet: String!
  }

  type Query {
    treatment(slug: String!): Treatment
    treatments(first: Int, after: String, last: Int, before: String): TreatmentConnection!
    search(query: String!, first: Int = 10): [SearchHit!]!
  }
`;

const globalId = (kind, key) => Buffer.from(`${kind}:${key}`).toString('base64');
const encodeCursor = (offset) => Buffer.from(`cursor:${offset}`).toString('base64');

function decodeCursor(cursor, name) {
  const text = Buffer.from(cursor, 'base64').toString();
  const match = /^cursor:(\d+)$/.exec(text);
  if (!match) throw new Error(`'${name}' is not a valid cursor: ${JSON.stringify(cursor)}`);
  return Number(match[1]);
}

function checkCount(value, name) {
  if (value == null) return;
  if (value < 0) throw new Error(`'${name}' must not be negative, got ${value}`);
  if (value > MAX_PAGE) throw new Error(`'${name}' must be at most ${MAX_PAGE}, got ${value}`);
}

/** Relay's cursor algorithm over a list, as contentapi's pagination.window does it. */
function connect(items, { first, after, last, before }) {
  checkCount(first, 'first');
  checkCount(last, 'last');
  const total = items.length;
  let start = 0;
  let end = total;
  if (after != null) start = Math.min(Math.max(decodeCursor(after, 'after') + 1, 0), total);
  if (before != null) end = Math.max(Math.min(decodeCursor(before, 'before'), total), start);
  if (first == null && last == null) first = DEFAULT_PAGE;
  if (first != null) end = Math.min(end, start + first);
  if (last != null) start = Math.max(start, end - last);
  const page = items.slice(start, end);
  return {
    nodes: page,
    start,
    pageInfo: {
      hasNextPage: end < total,
      hasPreviousPage: start > 0,
      startCursor: page.length ? encodeCursor(start) : null,
      endCursor: page.length ? encodeCursor(start + page.length - 1) : null,
    },
    totalCount: total,
  };
}

const escapeHtml = (text) =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#x27;' })[c]);

function countOf(haystack, needle) {
  let count = 0;
  for (let at = haystack.indexOf(needle); at !== -1; at = haystack.indexOf(needle, at + needle.length)) {
    count += 1;
  }
  return count;
}

function snippet(text, lower, needle) {
  const at = lower.indexOf(needle);
  if (at === -1) return escapeHtml(text.slice(0, 120));
  const from = Math.max(0, at - 60);
  const to = Math.min(text.length, at + needle.length + 60);
  return (
    (from > 0 ? '…' : '') +
    escapeHtml(text.slice(from, at)) +
    '<mark>' +
    escapeHtml(text.slice(at, at + needle.length)) +
    '</mark>' +
    escapeHtml(text.slice(at + needle.length, to)) +
    (to < text.length ? '…' : '')
  ).replace(/\n/g, ' ');
}

/** Model objects shaped so the default field resolvers read them as they are. */
export function load(path) {
  const dump = JSON.parse(readFileSync(path, 'utf8'));
  const indications = new Map();
  const categories = new Map();
  const treatments = dump.treatments.map((t) => ({ ...t, id: globalId('Treatment', t.slug) }));
  for (const t of treatments) {
    t.images = t.images.map((image, position) => ({
      ...image,
      position,
      id: globalId('Image', `${t.slug}/${position}`),
    }));
    t.indications = t.indications.map((mention) => {
      let found = indications.get(mention.slug);
      if (!found) {
        found = { ...mention, id: globalId('Indication', mention.slug), treatmentCount: 0 };
        indications.set(mention.slug, found);
      }
      found.treatmentCount += 1;
      return found;
    });
    if (t.category) {
      let found = categories.get(t.category.slug);
      if (!found) {
        found = { ...t.category, id: globalId('Category', t.category.slug), treatmentCount: 0 };
        categories.set(t.category.slug, found);
      }
      found.treatmentCount += 1;
      t.category = found;
    }
    // For the naive search: lower-cased once at start-up, not per request.
    t.lower = { title: t.title.toLowerCase(), summary: (t.summary ?? '').toLowerCase(), text: t.text.toLowerCase() };
  }
  return { treatments, bySlug: new Map(treatments.map((t) => [t.slug, t])) };
}

/** The resolvers, graphql-tools style: { Type: { field(parent, args) } }. */
export function makeResolvers(content) {
  return {
    Query: {
      treatment: (_, { slug }) => content.bySlug.get(slug) ?? null,
      treatments: (_, args) => connect(content.treatments, args),
      search: (_, { query, first }) => {
        first = first ?? 10;
        checkCount(first, 'first');
        const needle = query.trim().toLowerCase();
        if (!needle) return [];
        const hits = [];
        for (const t of content.treatments) {
          const score =
            10 * countOf(t.lower.title, needle) + 4 * countOf(t.lower.summary, needle) + countOf(t.lower.text, needle);
          if (score > 0) hits.push({ t, score });
        }
        hits.sort((a, b) => b.score - a.score || (a.t.slug < b.t.slug ? -1 : a.t.slug > b.t.slug ? 1 : 0));
        return hits.slice(0, first).map(({ t, score }) => ({ treatment: t, score, needle }));
      },
    },
    TreatmentConnection: {
      edges: ({ nodes, start }) => nodes.map((node, i) => ({ cursor: encodeCursor(start + i), node })),
    },
    SearchHit: {
      snippet: ({ treatment, needle }) => snippet(treatment.text, treatment.lower.text, needle),
    },
  };
}

/** An executable schema: the SDL with makeResolvers(content) set on its fields. */
export function makeSchema(content) {
  const schema = buildSchema(sdl);
  for (const [typeName, fields] of Object.entries(makeResolvers(content))) {
    const typeFields = schema.getType(typeName).getFields();
    for (const [fieldName, resolve] of Object.entries(fields)) typeFields[fieldName].resolve = resolve;
  }
  return schema;
}

/** The command line every peer takes, --data FILE [--port 4000] [--host 127.0.0.1], plus
 * the boolean flags named in `flags`. */
export function serverArgs(script, flags = []) {
  const options = {
    data: { type: 'string' },
    port: { type: 'string', default: '4000' },
    host: { type: 'string', default: '127.0.0.1' },
  };
  for (const flag of flags) options[flag] = { type: 'boolean', default: false };
  const { values } = parseArgs({ options });
  if (!values.data) {
    const extra = flags.map((flag) => ` [--${flag}]`).join('');
    console.error(`usage: node ${script} --data corpus.json [--port 4000] [--host 127.0.0.1]${extra}`);
    process.exit(2);
  }
  return { ...values, port: Number(values.port) };
}

export const HEALTHZ = '{"status":"ok"}';
