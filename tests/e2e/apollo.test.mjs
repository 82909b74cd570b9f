// Apollo Client 3 in plain node (no React) against the real server: a normalised
// InMemoryCache keyed by the global Node ids, relay-style pagination with fetchMore,
// errors as ApolloError, and queries sent as GET.
import assert from "node:assert/strict";
import { describe, test } from "node:test";

// Apollo Client 3 has no "exports" map, so node's ESM resolver cannot import the
// "@apollo/client/core" directory; its ESM entry points are imported by file instead.
import {
  ApolloClient,
  ApolloError,
  HttpLink,
  InMemoryCache,
  gql,
} from "@apollo/client/core/index.js";
import { relayStylePagination } from "@apollo/client/utilities/index.js";

import { CORPUS_TITLES, corpusUrl, recordingFetch, seedUrl } from "./helpers.mjs";

/** Wait until check() is true, polling: Apollo tells watchers on a later tick. */
async function until(check, what, timeout = 5000) {
  const deadline = Date.now() + timeout;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const POSSIBLE_TYPES = { Node: ["Treatment", "Image", "Indication", "Category"] };

function makeClient(uri, { useGETForQueries = false } = {}) {
  const recorder = recordingFetch();
  const client = new ApolloClient({
    link: new HttpLink({ uri, fetch: recorder.fetch, useGETForQueries }),
    cache: new InMemoryCache({
      possibleTypes: POSSIBLE_TYPES,
      typePolicies: {
        Query: {
          fields: {
            // One list per filter and order; pages of first/after are merged into it.
            treatments: relayStylePagination(["filter", "orderBy"]),
          },
        },
      },
    }),
    defaultOptions: { query: { fetchPolicy: "network-only" } },
  });
  return { client, calls: recorder.calls };
}

const TREATMENT_PAGE = gql`
  query ApolloTreatment($slug: String!) {
    treatment(slug: $slug) {
      id
      slug
      title
      category {
        id
        name
      }
      images {
        id
        src
      }
      indications {
        id
        name
      }
    }
  }
`;

const TREATMENT_LIST = gql`
  query ApolloTreatmentList {
    treatments(first: 5) {
      edges {
        node {
          id
          title
        }
      }
    }
  }
`;

const PAGED_TREATMENTS = gql`
  query PagedTreatments($first: Int!, $after: String) {
    treatments(first: $first, after: $after) {
      totalCount
      edges {
        cursor
        node {
          id
          slug
          title
        }
      }
      pageInfo {
        hasNextPage
        hasPreviousPage
        startCursor
        endCursor
      }
    }
  }
`;

describe("Apollo InMemoryCache normalisation (seed content)", () => {
  test("objects are stored once under Typename:id and shared between queries", async () => {
    const { client } = makeClient(seedUrl());
    const { data } = await client.query({
      query: TREATMENT_PAGE,
      variables: { slug: "mesotherapy" },
    });
    const treatment = data.treatment;
    assert.equal(treatment.title, "Mesotherapy");
    assert.equal(treatment.__typename, "Treatment");

    const cacheId = client.cache.identify(treatment);
    assert.equal(cacheId, `Treatment:${treatment.id}`);
    const stored = client.cache.extract();
    assert.ok(stored[cacheId], `${cacheId} is in the cache`);
    assert.deepEqual(stored.ROOT_QUERY['treatment({"slug":"mesotherapy"})'], { __ref: cacheId });
    for (const image of treatment.images) assert.ok(stored[`Image:${image.id}`]);
    for (const indication of treatment.indications) {
      assert.ok(stored[`Indication:${indication.id}`]);
    }
    assert.ok(stored[`Category:${treatment.category.id}`]);

    // The same treatment reached through the list is the same cache entry ...
    const list = await client.query({ query: TREATMENT_LIST });
    const listed = list.data.treatments.edges.map((edge) => edge.node);
    assert.deepEqual(
      listed.map((node) => node.id),
      [treatment.id],
    );
    const keys = Object.keys(client.cache.extract()).filter((key) => key.startsWith("Treatment:"));
    assert.deepEqual(keys, [cacheId]);

    // ... so a change written to it shows in both queries.
    client.cache.modify({ id: cacheId, fields: { title: () => "Changed locally" } });
    const fromList = client.readQuery({ query: TREATMENT_LIST });
    const fromPage = client.readQuery({
      query: TREATMENT_PAGE,
      variables: { slug: "mesotherapy" },
    });
    assert.equal(fromList.treatments.edges[0].node.title, "Changed locally");
    assert.equal(fromPage.treatment.title, "Changed locally");
  });

  test("ids are global: node(id:) finds every type, and Node fragments match via possibleTypes", async () => {
    const { client } = makeClient(seedUrl());
    const { data } = await client.query({
      query: TREATMENT_PAGE,
      variables: { slug: "mesotherapy" },
    });
    const treatment = data.treatment;
    const ids = [
      treatment.id,
      treatment.images[0].id,
      treatment.indications[1].id,
      treatment.category.id,
    ];
    assert.equal(new Set(ids).size, ids.length, "ids differ between types");

    const NODES = gql`
      query ApolloNodes($ids: [ID!]!) {
        nodes(ids: $ids) {
          id
          ... on Treatment {
            title
          }
          ... on Image {
            src
            width
            height
          }
          ... on Indication {
            slug
            name
          }
          ... on Category {
            name
          }
        }
      }
    `;
    const result = await client.query({ query: NODES, variables: { ids } });
    assert.deepEqual(
      result.data.nodes.map((node) => node.__typename),
      ["Treatment", "Image", "Indication", "Category"],
    );
    const [asTreatment, asImage, asIndication, asCategory] = result.data.nodes;
    assert.equal(asTreatment.title, "Mesotherapy");
    assert.deepEqual(
      [asImage.src, asImage.width, asImage.height],
      ["/img/pages/mesotherapy_london.jpg", 400, 300],
    );
    assert.deepEqual(
      [asIndication.slug, asIndication.name],
      ["redundant-sagging-skin", "Redundant (sagging) skin"],
    );
    assert.equal(asCategory.name, "Skin Treatment");

    // A fragment on the interface reads any of the four types out of the cache:
    // that needs possibleTypes, as the cache cannot know Treatment implements Node.
    const NODE_ID = gql`
      fragment NodeId on Node {
        id
      }
    `;
    for (const node of result.data.nodes) {
      const read = client.readFragment({ id: client.cache.identify(node), fragment: NODE_ID });
      assert.deepEqual(read, { __typename: node.__typename, id: node.id });
    }
    // The node from nodes(ids:) and the one from treatment(slug:) are one entry.
    assert.equal(client.cache.identify(asTreatment), client.cache.identify(treatment));
  });

  test("cache.identify agrees with the server's ids for objects read back by node(id:)", async () => {
    const { client } = makeClient(seedUrl());
    const { data } = await client.query({
      query: TREATMENT_PAGE,
      variables: { slug: "mesotherapy" },
    });
    const NODE = gql`
      query ApolloNode($id: ID!) {
        node(id: $id) {
          id
          ... on Image {
            src
            treatment {
              id
              slug
            }
          }
        }
      }
    `;
    const image = data.treatment.images[1];
    const result = await client.query({ query: NODE, variables: { id: image.id } });
    assert.equal(result.data.node.__typename, "Image");
    assert.equal(result.data.node.src, "/img/pages/mesotherapy_london2.jpg");
    assert.equal(result.data.node.treatment.id, data.treatment.id);
    const missing = await client.query({ query: NODE, variables: { id: "bm90LWFuLWlk" } });
    assert.equal(missing.data.node, null);
  });
});

describe("relay-style pagination with fetchMore (corpus25)", () => {
  test("first: 10 with after: endCursor sees all 25 treatments once, in title order, in 3 pages", async () => {
    const { client, calls } = makeClient(corpusUrl());
    const observable = client.watchQuery({ query: PAGED_TREATMENTS, variables: { first: 10 } });
    // What a UI bound to the query would render, one entry per update.
    const results = [];
    const subscription = observable.subscribe({
      next: (result) => results.push(result),
      error: (error) => results.push({ error }),
    });
    const latest = () => {
      const result = results.at(-1);
      if (result.error) throw result.error;
      return result.data.treatments;
    };
    try {
      await until(() => results.length > 0, "the first page");
      assert.equal(latest().totalCount, 25);
      assert.equal(latest().edges.length, 10);
      assert.equal(latest().pageInfo.hasNextPage, true);
      assert.equal(latest().pageInfo.hasPreviousPage, false);

      let pages = 1;
      while (latest().pageInfo.hasNextPage) {
        const { endCursor } = latest().pageInfo;
        const shown = latest().edges.length;
        assert.ok(endCursor, "a page that has a next page has an endCursor");
        const more = await observable.fetchMore({ variables: { after: endCursor } });
        pages += 1;
        assert.ok(more.data.treatments.edges.length > 0, "fetchMore returned a page");
        await until(() => latest().edges.length > shown, "the merged list to be delivered");
        assert.ok(pages <= 5, "pagination ends");
      }
      const { edges, pageInfo, totalCount } = latest();

      assert.equal(pages, 3);
      assert.deepEqual(
        results.map((result) => result.data.treatments.edges.length),
        [10, 20, 25],
      );
      assert.equal(totalCount, 25);
      assert.deepEqual(
        edges.map((edge) => edge.node.title),
        CORPUS_TITLES,
      );
      assert.equal(new Set(edges.map((edge) => edge.node.id)).size, 25, "each seen once");
      assert.equal(new Set(edges.map((edge) => edge.cursor)).size, 25, "cursors differ");
      assert.equal(pageInfo.hasNextPage, false);
      assert.equal(pageInfo.endCursor, edges.at(-1).cursor);
      assert.equal(pageInfo.startCursor, edges[0].cursor);

      // Three POSTs went to the server: the first page, then after the 10th and the 20th.
      assert.deepEqual(
        calls.map((call) => call.method),
        ["POST", "POST", "POST"],
      );
      assert.deepEqual(
        calls.map((call) => call.request.variables),
        [
          { first: 10 },
          { first: 10, after: edges[9].cursor },
          { first: 10, after: edges[19].cursor },
        ],
      );

      // The merged list is what the cache now answers for the first page's variables.
      const cached = client.readQuery({ query: PAGED_TREATMENTS, variables: { first: 10 } });
      assert.equal(cached.treatments.edges.length, 25);
    } finally {
      subscription.unsubscribe();
    }
  });

  test("a cursor from the server resumes exactly after its item", async () => {
    const { client } = makeClient(corpusUrl());
    const first = await client.query({ query: PAGED_TREATMENTS, variables: { first: 10 } });
    const cursor = first.data.treatments.edges[6].cursor; // Treatment 07
    const { client: fresh } = makeClient(corpusUrl());
    const next = await fresh.query({
      query: PAGED_TREATMENTS,
      variables: { first: 3, after: cursor },
    });
    assert.deepEqual(
      next.data.treatments.edges.map((edge) => edge.node.title),
      ["Treatment 08", "Treatment 09", "Treatment 10"],
    );
    assert.equal(next.data.treatments.pageInfo.hasPreviousPage, true);
  });
});

describe("errors reach Apollo as ApolloError", () => {
  test("a page size over the limit is refused with an error naming 100", async () => {
    const { client } = makeClient(seedUrl());
    await assert.rejects(
      client.query({
        query: gql`
          query TooMany {
            treatments(first: 1000) {
              totalCount
            }
          }
        `,
      }),
      (error) => {
        assert.ok(error instanceof ApolloError, `an ApolloError, got ${error}`);
        assert.equal(error.graphQLErrors.length, 1);
        assert.match(error.graphQLErrors[0].message, /\b100\b/);
        assert.deepEqual(error.graphQLErrors[0].path, ["treatments"]);
        return true;
      },
    );
  });

  test("an unknown field is a validation error", async () => {
    const { client } = makeClient(seedUrl());
    await assert.rejects(
      client.query({
        query: gql`
          query Unknown {
            treatment(slug: "mesotherapy") {
              noSuchField
            }
          }
        `,
      }),
      (error) => {
        assert.ok(error instanceof ApolloError, `an ApolloError, got ${error}`);
        assert.match(error.graphQLErrors[0].message, /noSuchField/);
        return true;
      },
    );
  });

  test("errorPolicy all gives the field error alongside the rest of the data", async () => {
    const { client } = makeClient(seedUrl());
    const result = await client.query({
      query: gql`
        query Partial {
          treatment(slug: "mesotherapy") {
            id
            title
          }
          category(slug: "skin-treatment") {
            id
            treatments(first: 1000) {
              totalCount
            }
          }
        }
      `,
      errorPolicy: "all",
    });
    assert.equal(result.data.treatment.title, "Mesotherapy");
    assert.equal(result.data.category, null, "the error nulls the nearest nullable field");
    assert.equal(result.errors.length, 1);
    assert.match(result.errors[0].message, /\b100\b/);
    assert.deepEqual(result.errors[0].path, ["category", "treatments"]);
  });
});

describe("queries over GET (HttpLink useGETForQueries)", () => {
  test("the query is sent as GET with the operation in the URL and is answered", async () => {
    const { client, calls } = makeClient(seedUrl(), { useGETForQueries: true });
    const { data } = await client.query({
      query: TREATMENT_PAGE,
      variables: { slug: "mesotherapy" },
    });
    assert.equal(data.treatment.title, "Mesotherapy");
    assert.equal(data.treatment.images.length, 2);

    assert.equal(calls.length, 1);
    const [call] = calls;
    assert.equal(call.method, "GET");
    assert.equal(call.status, 200);
    const url = new URL(call.url);
    assert.match(url.searchParams.get("query"), /query ApolloTreatment/);
    assert.deepEqual(JSON.parse(url.searchParams.get("variables")), { slug: "mesotherapy" });
    assert.equal(url.searchParams.get("operationName"), "ApolloTreatment");
    // GET answers are cacheable by HTTP caches; POST answers are not.
    assert.match(call.headers["cache-control"] ?? "", /public/);
    assert.ok(call.headers.etag, "a GET answer has an ETag");
  });

  test("without useGETForQueries the same query is a POST that is not cached", async () => {
    const { client, calls } = makeClient(seedUrl());
    await client.query({ query: TREATMENT_PAGE, variables: { slug: "mesotherapy" } });
    assert.equal(calls[0].method, "POST");
    assert.equal(calls[0].headers["cache-control"], "no-store");
  });
});
