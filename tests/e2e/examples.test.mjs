// The operations in examples/queries/*.graphql, run against the real server as a site would:
// each answers without errors, with the data the fixture content implies.
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import {
  buildClientSchema,
  buildSchema,
  getIntrospectionQuery,
  lexicographicSortSchema,
  printSchema,
} from "graphql";
import { GraphQLClient } from "graphql-request";
import { readFileSync } from "node:fs";
import { join } from "node:path";

import { CORPUS_TITLES, PROJECT, corpusUrl, exampleQueries, seedUrl } from "./helpers.mjs";

const QUERIES = Object.fromEntries(exampleQueries().map((q) => [q.name, q.source]));
const pad = (n) => String(n).padStart(2, "0");

/** Run an example operation; fails the test with the server's errors if there are any. */
async function run(url, name, variables = {}) {
  assert.ok(QUERIES[name], `examples/queries/${name}.graphql exists`);
  const response = await new GraphQLClient(url, { errorPolicy: "all" }).rawRequest(
    QUERIES[name],
    variables,
  );
  assert.equal(response.errors, undefined, `${name} ${JSON.stringify(response.errors)}`);
  return response.data;
}

/** Follow pageInfo.endCursor until hasNextPage is false; returns every page's data. */
async function allPages(url, name, variables, connectionOf) {
  const pages = [];
  let after = null;
  do {
    const data = await run(url, name, { ...variables, after });
    pages.push(data);
    after = connectionOf(data).pageInfo.hasNextPage ? connectionOf(data).pageInfo.endCursor : null;
    assert.ok(pages.length <= 30, "pagination ends");
  } while (after);
  return pages;
}

describe("examples/queries against the servers", () => {
  test("schema.graphql is the schema the server serves (introspection)", async () => {
    const exported = buildSchema(readFileSync(join(PROJECT, "schema.graphql"), "utf8"));
    const client = new GraphQLClient(seedUrl());
    const served = buildClientSchema(await client.request(getIntrospectionQuery({ specifiedByUrl: true })));
    assert.equal(
      printSchema(lexicographicSortSchema(served)),
      printSchema(lexicographicSortSchema(exported)),
      "schema.graphql is stale: run `contentapi export-schema`",
    );
  });

  test("TreatmentPage: the seed page", async () => {
    const { treatment } = await run(seedUrl(), "TreatmentPage", { slug: "mesotherapy" });
    assert.equal(treatment.title, "Mesotherapy");
    assert.equal(treatment.category.name, "Skin Treatment");
    assert.deepEqual(
      treatment.images.map(({ src, width, height, alt }) => ({ src, width, height, alt })),
      [
        {
          src: "/img/pages/mesotherapy_london.jpg",
          width: 400,
          height: 300,
          alt: "and another sample image",
        },
        { src: "/img/pages/mesotherapy_london2.jpg", width: 400, height: 300, alt: "a sample image" },
      ],
    );
    assert.equal(treatment.indications.length, 10);
    assert.deepEqual(
      treatment.tableOfContents.map((heading) => heading.anchor),
      ["the-method", "mesotherapy-also-can-help-with"],
    );
    assert.doesNotMatch(treatment.html, /amp-carousel/, "the carousel is removed from html");
    assert.deepEqual(treatment.related, []);
  });

  test("TreatmentPage: a corpus page, with related pages and a missing slug", async () => {
    const { treatment } = await run(corpusUrl(), "TreatmentPage", { slug: "page-15" });
    assert.equal(treatment.title, "Treatment 15");
    assert.deepEqual(treatment.category, {
      id: treatment.category.id,
      slug: "skin-care",
      name: "Skin Care",
    });
    assert.deepEqual(
      treatment.indications.map((indication) => indication.slug),
      ["wellbeing", "acne", "cellulite", "condition-15"],
    );
    assert.equal(treatment.images.length, 1);
    assert.equal(treatment.images[0].src, "/img/corpus/page-15.jpg");
    assert.equal(treatment.images[0].alt, "Treatment 15 photo");
    assert.deepEqual(treatment.tableOfContents, [
      { level: 2, title: "How it works", anchor: "how-it-works" },
    ]);
    // Wellbeing is shared by all; Acne (3, 6, 9...) or Cellulite (5, 10...) makes two shared,
    // and those come first, ties by title.
    assert.deepEqual(
      treatment.related.map((page) => page.title),
      ["Treatment 03", "Treatment 05", "Treatment 06", "Treatment 09"],
    );
    const even = await run(corpusUrl(), "TreatmentPage", { slug: "page-04" });
    assert.deepEqual(
      even.treatment.images.map(({ width, height }) => [width, height]),
      [[640, 480]],
    );
    const missing = await run(corpusUrl(), "TreatmentPage", { slug: "page-26" });
    assert.equal(missing.treatment, null);
  });

  test("TreatmentsByCategory: all of a category, page by page", async () => {
    const pages = await allPages(
      corpusUrl(),
      "TreatmentsByCategory",
      { category: "skin-care", first: 5 },
      (data) => data.treatments,
    );
    assert.equal(pages.length, 3);
    assert.deepEqual(pages[0].category, {
      id: pages[0].category.id,
      slug: "skin-care",
      name: "Skin Care",
      treatmentCount: 13,
    });
    const titles = pages.flatMap((page) => page.treatments.edges.map((edge) => edge.node.title));
    assert.deepEqual(
      titles,
      CORPUS_TITLES.filter((_, i) => i % 2 === 0),
    );
    assert.ok(pages.every((page) => page.treatments.totalCount === 13));
  });

  test("TreatmentsByIndication: a shared indication", async () => {
    const { indication } = await run(corpusUrl(), "TreatmentsByIndication", {
      indication: "cellulite",
    });
    assert.equal(indication.name, "Cellulite");
    assert.equal(indication.treatmentCount, 5);
    assert.deepEqual(
      indication.treatments.nodes.map((node) => node.title),
      [5, 10, 15, 20, 25].map((n) => `Treatment ${pad(n)}`),
    );
    assert.equal(indication.treatments.pageInfo.hasNextPage, false);
    const none = await run(corpusUrl(), "TreatmentsByIndication", { indication: "nothing" });
    assert.equal(none.indication, null);
  });

  test("IndicationIndex: every indication once, by name, with counts", async () => {
    const pages = await allPages(corpusUrl(), "IndicationIndex", { first: 10 }, (data) => data.indications);
    const nodes = pages.flatMap((page) => page.indications.nodes);
    assert.equal(pages[0].indications.totalCount, 28);
    assert.equal(nodes.length, 28);
    const names = nodes.map((node) => node.name);
    assert.deepEqual(names, [
      "Acne",
      "Cellulite",
      ...Array.from({ length: 25 }, (_, i) => `Condition ${pad(i + 1)}`),
      "Wellbeing",
    ]);
    const counts = Object.fromEntries(nodes.map((node) => [node.slug, node.treatmentCount]));
    assert.equal(counts.wellbeing, 25);
    assert.equal(counts.acne, 8);
    assert.equal(counts["condition-07"], 1);
  });

  test("SearchBox: the best match first, with a marked snippet", async () => {
    const corpus = await run(corpusUrl(), "SearchBox", { query: "Treatment 07" });
    assert.equal(corpus.search[0].treatment.slug, "page-07");
    assert.match(corpus.search[0].snippet, /<mark>07<\/mark>/);
    const seed = await run(seedUrl(), "SearchBox", { query: "collagen" });
    assert.deepEqual(
      seed.search.map((hit) => hit.treatment.title),
      ["Mesotherapy"],
    );
    assert.match(seed.search[0].snippet, /<mark>collagen<\/mark>/i);
    const nothing = await run(seedUrl(), "SearchBox", { query: "zzzzqqq" });
    assert.deepEqual(nothing.search, []);
  });

  test("Sitemap: every slug, once, by title", async () => {
    const pages = await allPages(corpusUrl(), "Sitemap", {}, (data) => data.treatments);
    assert.equal(pages.length, 1, "25 pages fit in one request of 100");
    const slugs = pages.flatMap((page) => page.treatments.nodes.map((node) => node.slug));
    assert.deepEqual(
      slugs,
      Array.from({ length: 25 }, (_, i) => `page-${pad(i + 1)}`),
    );
    const seed = await allPages(seedUrl(), "Sitemap", {}, (data) => data.treatments);
    assert.deepEqual(
      seed.flatMap((page) => page.treatments.nodes.map((node) => node.slug)),
      ["mesotherapy"],
    );
  });
});
