// graphql-request against the real server: the seed page's exact values, variables,
// and GraphQL errors surfacing as ClientError.
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { ClientError, GraphQLClient, gql } from "graphql-request";

import { corpusUrl, seedUrl } from "./helpers.mjs";

const SEED_INDICATIONS = [
  ["Facelift", "facelift"],
  ["Redundant (sagging) skin", "redundant-sagging-skin"],
  ["Hand rejuvenation", "hand-rejuvenation"],
  ["Neck rejuvenation", "neck-rejuvenation"],
  ["Hair loss", "hair-loss"],
  ["Cellulite", "cellulite"],
  ["Dissolving excess fatty deposits", "dissolving-excess-fatty-deposits"],
  ["Removing fibroids and hardened connective tissue", "removing-fibroids-and-hardened-connective-tissue"],
  ["Improving lymphatic drainage", "improving-lymphatic-drainage"],
  ["Reducing inflammation", "reducing-inflammation"],
];

const TREATMENT = gql`
  query SeedTreatment($slug: String!) {
    treatment(slug: $slug) {
      slug
      title
      path
      category {
        name
        slug
      }
      images {
        src
        width
        height
        position
      }
      indications {
        name
        slug
      }
    }
  }
`;

describe("graphql-request: the seed page", () => {
  test("the mesotherapy page has its exact values", async () => {
    const client = new GraphQLClient(seedUrl());
    const data = await client.request(TREATMENT, { slug: "mesotherapy" });
    const { treatment } = data;
    assert.equal(treatment.slug, "mesotherapy");
    assert.equal(treatment.title, "Mesotherapy");
    assert.equal(treatment.path, "mesotherapy.md");
    assert.deepEqual(treatment.category, { name: "Skin Treatment", slug: "skin-treatment" });
    assert.deepEqual(treatment.images, [
      { src: "/img/pages/mesotherapy_london.jpg", width: 400, height: 300, position: 0 },
      { src: "/img/pages/mesotherapy_london2.jpg", width: 400, height: 300, position: 1 },
    ]);
    assert.deepEqual(
      treatment.indications.map(({ name, slug }) => [name, slug]),
      SEED_INDICATIONS,
    );
  });

  test("variables choose the page; an unknown slug is null, not an error", async () => {
    const client = new GraphQLClient(seedUrl());
    const response = await client.rawRequest(TREATMENT, { slug: "no-such-page" });
    assert.deepEqual(response.data, { treatment: null });
    assert.equal(response.errors, undefined);
    assert.equal(response.status, 200);
  });

  test("an indication's page lists the treatment, found by its slug", async () => {
    const client = new GraphQLClient(seedUrl());
    const data = await client.request(
      gql`
        query Indication($slug: String!) {
          indication(slug: $slug) {
            name
            treatmentCount
            treatments(first: 5) {
              nodes {
                slug
              }
            }
          }
        }
      `,
      { slug: "redundant-sagging-skin" },
    );
    assert.deepEqual(data.indication, {
      name: "Redundant (sagging) skin",
      treatmentCount: 1,
      treatments: { nodes: [{ slug: "mesotherapy" }] },
    });
  });

  test("filters and variables over corpus25: a category and an indication", async () => {
    const client = new GraphQLClient(corpusUrl());
    const query = gql`
      query Filtered($filter: TreatmentFilter, $first: Int) {
        treatments(filter: $filter, first: $first) {
          totalCount
          nodes {
            title
          }
        }
      }
    `;
    const acne = await client.request(query, { filter: { indication: "acne" }, first: 100 });
    assert.equal(acne.treatments.totalCount, 8);
    assert.deepEqual(
      acne.treatments.nodes.map((node) => node.title),
      [3, 6, 9, 12, 15, 18, 21, 24].map((n) => `Treatment ${String(n).padStart(2, "0")}`),
    );
    const body = await client.request(query, { filter: { category: "body-contouring" } });
    assert.equal(body.treatments.totalCount, 12);
    const acneAndCellulite = { indicationsAll: ["acne", "cellulite"] };
    const both = await client.request(query, { filter: acneAndCellulite });
    assert.deepEqual(both.treatments, { totalCount: 1, nodes: [{ title: "Treatment 15" }] });
    const none = await client.request(query, {
      filter: { ...acneAndCellulite, category: "body-contouring" },
    });
    assert.deepEqual(none.treatments, { totalCount: 0, nodes: [] });
  });
});

describe("graphql-request: errors are ClientErrors", () => {
  test("first: 1000 is refused with an error mentioning the limit of 100", async () => {
    const client = new GraphQLClient(seedUrl());
    await assert.rejects(
      client.request(gql`
        query TooMany {
          treatments(first: 1000) {
            totalCount
          }
        }
      `),
      (error) => {
        assert.ok(error instanceof ClientError, `a ClientError, got ${error}`);
        const [first] = error.response.errors;
        assert.match(first.message, /\b100\b/);
        assert.deepEqual(first.path, ["treatments"]);
        assert.equal(error.response.status, 200);
        return true;
      },
    );
  });

  test("a page size passed as a variable is checked the same way", async () => {
    const client = new GraphQLClient(corpusUrl());
    await assert.rejects(
      client.request(
        gql`
          query Many($first: Int) {
            treatments(first: $first) {
              totalCount
            }
          }
        `,
        { first: 101 },
      ),
      (error) => error instanceof ClientError && /\b100\b/.test(error.response.errors[0].message),
    );
  });

  test("an unknown field fails validation with a located error", async () => {
    const client = new GraphQLClient(seedUrl());
    await assert.rejects(
      client.request(gql`
        query Unknown {
          treatment(slug: "mesotherapy") {
            noSuchField
          }
        }
      `),
      (error) => {
        assert.ok(error instanceof ClientError, `a ClientError, got ${error}`);
        const [first] = error.response.errors;
        assert.match(first.message, /Cannot query field .noSuchField. on type .Treatment./);
        assert.ok(first.locations?.length, "the error has a location");
        assert.equal(error.response.data, undefined);
        return true;
      },
    );
  });

  test("a variable of the wrong type is refused", async () => {
    const client = new GraphQLClient(seedUrl());
    await assert.rejects(client.request(TREATMENT, { slug: 42 }), (error) => {
      assert.ok(error instanceof ClientError);
      assert.match(error.response.errors[0].message, /\$slug/);
      return true;
    });
  });
});
