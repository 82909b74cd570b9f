// Apollo's persisted query lists end to end: tests/test_e2e.py generates a manifest from
// examples/queries with the real @apollo/generate-persisted-query-manifest CLI, starts a
// server whose CONTENTAPI_PERSISTED_QUERIES is that manifest, and runs this file. Apollo
// Client, with @apollo/persisted-query-lists' generatePersistedQueryIdsFromManifest in
// Apollo's persisted-queries link, sends ids only (never query text) over POST and GET.
//
// Not a *.test.mjs file: it needs PERSISTED_URL and MANIFEST, which only that test sets.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";

import { ApolloClient, ApolloError, HttpLink, InMemoryCache, gql } from "@apollo/client/core/index.js";
import { createPersistedQueryLink } from "@apollo/client/link/persisted-queries/index.js";
import { generatePersistedQueryIdsFromManifest } from "@apollo/persisted-query-lists";

import { exampleQueries, recordingFetch } from "./helpers.mjs";

function required(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run this file through tests/test_e2e.py`);
  return value;
}

const url = required("PERSISTED_URL");
const manifest = JSON.parse(readFileSync(required("MANIFEST"), "utf8"));
const idOf = Object.fromEntries(manifest.operations.map((op) => [op.name, op.id]));
const DOCUMENTS = Object.fromEntries(exampleQueries().map((q) => [q.name, gql(q.source)]));
const POSSIBLE_TYPES = { Node: ["Treatment", "Image", "Indication", "Category"] };

function persistedClient({ useGETForHashedQueries }) {
  const recorder = recordingFetch();
  const persisted = createPersistedQueryLink({
    ...generatePersistedQueryIdsFromManifest({ loadManifest: () => manifest }),
    useGETForHashedQueries,
  });
  const client = new ApolloClient({
    link: persisted.concat(new HttpLink({ uri: url, fetch: recorder.fetch })),
    cache: new InMemoryCache({ possibleTypes: POSSIBLE_TYPES }),
    defaultOptions: { query: { fetchPolicy: "network-only" } },
  });
  return { client, calls: recorder.calls };
}

/** What each call carried: its method, whether any query text went, and the id sent. */
function sent(call) {
  if (call.method === "GET") {
    const params = new URL(call.url).searchParams;
    const extensions = JSON.parse(params.get("extensions"));
    return { method: "GET", hasQuery: params.has("query"), persistedQuery: extensions.persistedQuery };
  }
  return {
    method: "POST",
    hasQuery: "query" in call.request,
    persistedQuery: call.request.extensions.persistedQuery,
  };
}

// Every example operation with variables for content/ (the seed page) and what it must show.
const RUNS = [
  ["TreatmentPage", { slug: "mesotherapy" }, (data) => data.treatment.title, "Mesotherapy"],
  ["SearchBox", { query: "cellu" }, (data) => data.search[0].treatment.slug, "mesotherapy"],
  ["Sitemap", {}, (data) => data.treatments.nodes.map((n) => n.slug), ["mesotherapy"]],
  ["IndicationIndex", {}, (data) => data.indications.totalCount, 10],
  [
    "TreatmentsByCategory",
    { category: "skin-treatment" },
    (data) => [data.category.name, data.treatments.totalCount],
    ["Skin Treatment", 1],
  ],
  [
    "TreatmentsByIndication",
    { indication: "hair-loss" },
    (data) => data.indication.treatments.nodes.map((n) => n.slug),
    ["mesotherapy"],
  ],
];

describe("Apollo persisted query lists against a server holding the manifest", () => {
  test("the manifest names every example operation", () => {
    assert.deepEqual(Object.keys(idOf).sort(), Object.keys(DOCUMENTS).sort());
  });

  for (const useGETForHashedQueries of [false, true]) {
    const method = useGETForHashedQueries ? "GET" : "POST";
    test(`every example operation by id only, over ${method}`, async () => {
      const { client, calls } = persistedClient({ useGETForHashedQueries });
      for (const [name, variables, pick, expected] of RUNS) {
        const { data, errors } = await client.query({ query: DOCUMENTS[name], variables });
        assert.equal(errors, undefined, name);
        assert.deepEqual(pick(data), expected, name);
      }
      // One request per operation: no "not found" round trip re-sent the text.
      assert.deepEqual(
        calls.map(sent),
        RUNS.map(([name]) => ({
          method,
          hasQuery: false,
          persistedQuery: { version: 1, sha256Hash: idOf[name] },
        })),
      );
      assert.deepEqual(
        calls.map((call) => call.status),
        RUNS.map(() => 200),
      );
      const cacheControl = useGETForHashedQueries ? "public, max-age=60" : "no-store";
      for (const call of calls) assert.equal(call.headers["cache-control"], cacheControl);
    });
  }

  test("an operation outside the manifest is refused", async () => {
    const client = new ApolloClient({
      link: new HttpLink({ uri: url }),
      cache: new InMemoryCache(),
    });
    const query = gql`
      query NotListed {
        contentInfo {
          treatmentCount
        }
      }
    `;
    await assert.rejects(client.query({ query }), (error) => {
      assert.ok(error instanceof ApolloError);
      assert.deepEqual(
        error.graphQLErrors.map((e) => [e.message, e.extensions.code]),
        [["Only persisted queries may run on this server.", "PERSISTED_QUERY_NOT_ALLOWED"]],
      );
      return true;
    });
  });
});
