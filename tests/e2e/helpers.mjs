// Shared by the *.test.mjs files: where the servers are, and a fetch that records requests.
//
// The pytest wrapper (tests/test_e2e.py) starts two real servers and passes their
// GraphQL endpoint URLs:
//   SEED_URL    - serving content/ (the mesotherapy page)
//   CORPUS_URL  - serving tests/fixtures/corpus25 (25 pages, "Treatment 01".."Treatment 25")
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
export const PROJECT = resolve(here, "..", "..");
export const QUERIES_DIR = join(PROJECT, "examples", "queries");

function endpoint(name) {
  const value = process.env[name];
  if (!value) {
    throw new Error(
      `${name} is not set: run these tests through pytest (tests/test_e2e.py), ` +
        `or start a server and set ${name} to its GraphQL URL, e.g. http://127.0.0.1:8000/graphql`,
    );
  }
  return value;
}

export const seedUrl = () => endpoint("SEED_URL");
export const corpusUrl = () => endpoint("CORPUS_URL");

/** The titles of tests/fixtures/corpus25 in title order: "Treatment 01".."Treatment 25". */
export const CORPUS_TITLES = Array.from(
  { length: 25 },
  (_, i) => `Treatment ${String(i + 1).padStart(2, "0")}`,
);

/**
 * A fetch that behaves like the global one and notes each request: method, URL, the JSON
 * body of a POST (else null), and the answer's status and headers.
 */
export function recordingFetch() {
  const calls = [];
  const fetchAndRecord = async (input, init = {}) => {
    const request = new Request(input, init);
    const sent = request.method === "POST" ? await request.clone().json() : null;
    const response = await fetch(request);
    calls.push({
      method: request.method,
      url: request.url,
      request: sent,
      status: response.status,
      headers: Object.fromEntries(response.headers),
    });
    return response;
  };
  return { fetch: fetchAndRecord, calls };
}

/** Every example operation: { name, file, source } for examples/queries/*.graphql. */
export function exampleQueries() {
  return readdirSync(QUERIES_DIR)
    .filter((name) => name.endsWith(".graphql"))
    .sort()
    .map((file) => ({
      name: file.replace(/\.graphql$/, ""),
      file: join(QUERIES_DIR, file),
      source: readFileSync(join(QUERIES_DIR, file), "utf8"),
    }));
}
