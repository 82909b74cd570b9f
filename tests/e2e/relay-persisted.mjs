// Relay's persisted queries end to end: tests/test_e2e.py runs the real relay-compiler
// (persistConfig: a local file) on a small Relay project against schema.graphql, starts a
// server whose CONTENTAPI_PERSISTED_QUERIES is the map it wrote, and runs this file.
// relay-runtime fetches the compiled query through a network layer written as Relay's
// docs write one for persisted queries: it POSTs {doc_id: params.id, variables}, no text.
//
// Not a *.test.mjs file: it needs PERSISTED_URL and ARTIFACT, which only that test sets.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { pathToFileURL } from "node:url";

import relayRuntime from "relay-runtime";

import { recordingFetch } from "./helpers.mjs";

const { Environment, Network, RecordSource, Store, fetchQuery } = relayRuntime;

function required(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run this file through tests/test_e2e.py`);
  return value;
}

const url = required("PERSISTED_URL");
// The compiled RelayTreatmentQuery (its params.id is the persisted map's key).
const { default: query } = await import(pathToFileURL(required("ARTIFACT")).href);

function relayEnvironment() {
  const recorder = recordingFetch();
  async function fetchPersisted(params, variables) {
    const response = await recorder.fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({ doc_id: params.id, variables }),
    });
    return response.json();
  }
  const environment = new Environment({
    network: Network.create(fetchPersisted),
    store: new Store(new RecordSource()),
  });
  return { environment, calls: recorder.calls };
}

describe("Relay persisted queries against a server holding relay-compiler's map", () => {
  test("the compiled query has an id and no text", () => {
    assert.equal(query.params.name, "RelayTreatmentQuery");
    assert.equal(query.params.text, null);
    assert.match(query.params.id, /^[0-9a-f]{32,64}$/);
  });

  test("relay-runtime fetches the query by doc_id alone and gets its data", async () => {
    const { environment, calls } = relayEnvironment();
    const data = await fetchQuery(environment, query, { slug: "mesotherapy" }).toPromise();
    assert.equal(data.treatment.title, "Mesotherapy");
    assert.deepEqual(
      data.treatment.indications.slice(0, 3).map((indication) => indication.name),
      ["Facelift", "Redundant (sagging) skin", "Hand rejuvenation"],
    );
    assert.deepEqual(
      calls.map(({ method, request, status }) => ({ method, request, status })),
      [
        {
          method: "POST",
          request: { doc_id: query.params.id, variables: { slug: "mesotherapy" } },
          status: 200,
        },
      ],
    );
    // Relay normalised the answer into its store by the global id.
    const snapshot = environment.getStore().getSource().toJSON();
    assert.equal(snapshot[data.treatment.id].title, "Mesotherapy");
  });

  test("a slug with no page is null, not an error", async () => {
    const { environment } = relayEnvironment();
    const data = await fetchQuery(environment, query, { slug: "no-such-page" }).toPromise();
    assert.deepEqual(data, { treatment: null });
  });
});
