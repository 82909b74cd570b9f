"""End-to-end tests with real JavaScript GraphQL clients against the real server.

The node side lives in tests/e2e (run there with `node --test`, packages from its
package-lock.json, installed by `make test`):

- apollo.test.mjs: Apollo Client 3's normalised InMemoryCache (possibleTypes for the
  Node interface), relay-style pagination with fetchMore, ApolloError, GET queries;
- graphql-request.test.mjs: the seed page's exact values, variables, ClientError;
- examples.test.mjs: every operation in examples/queries run against the servers, and
  schema.graphql compared with the served schema;
- validate-queries.mjs: examples/queries/*.graphql validated against schema.graphql;
- codegen.yml: TypeScript types generated from those operations;
- apollo-persisted.mjs: Apollo Client sending ids only, from a manifest made by the real
  @apollo/generate-persisted-query-manifest, to a server holding that manifest;
- relay-persisted.mjs: relay-runtime sending doc_id only, from the real relay-compiler's
  persisted map (MD5 and SHA-256 ids), to a server holding that map.

Two servers run for the *.test.mjs files: content/ (SEED_URL) and tests/fixtures/corpus25
(CORPUS_URL), both passed as GraphQL endpoint URLs. The persisted-query files each get a
server of their own (PERSISTED_URL), started on the list their tool just generated.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from server import running_server

ROOT = Path(__file__).resolve().parent.parent.parent
E2E_DIR = ROOT / "tests" / "e2e"
SCHEMA = ROOT / "schema.graphql"
QUERIES_DIR = ROOT / "examples" / "queries"
VALIDATOR = E2E_DIR / "validate-queries.mjs"
CODEGEN_OUTPUT = E2E_DIR / "generated" / "types.ts"
# What the node tests import, and the codegen command: all installed by `npm ci`.
REQUIRED_PACKAGES = (
    "@apollo/client",
    "graphql",
    "graphql-request",
    "@graphql-codegen/cli",
    "@graphql-codegen/typescript",
    "@graphql-codegen/typescript-operations",
    "@apollo/generate-persisted-query-manifest",
    "@apollo/persisted-query-lists",
    "relay-compiler",
    "relay-runtime",
)
EXAMPLE_NAMES = [
    "IndicationIndex",
    "SearchBox",
    "Sitemap",
    "TreatmentPage",
    "TreatmentsByCategory",
    "TreatmentsByIndication",
]

# tests/server.py leaves the server's stdout pipe open when it stops it; the file
# object is collected later and warns. Remove once running_server closes it.
pytestmark = [
    pytest.mark.filterwarnings(
        "ignore:Exception ignored in. <_io.FileIO:pytest.PytestUnraisableExceptionWarning"
    ),
    pytest.mark.filterwarnings("ignore:unclosed file <_io.BufferedReader:ResourceWarning"),
]


def _require(program: str) -> str:
    """Path of node or npx, once tests/e2e's packages are installed; else skip (fail under CI)."""
    found = shutil.which(program)
    missing = [
        name
        for name in REQUIRED_PACKAGES
        if not (E2E_DIR / "node_modules" / name / "package.json").is_file()
    ]
    if found is None:
        problem = f"{program} is not installed"
    elif missing:
        problem = (
            f"tests/e2e/node_modules lacks {', '.join(missing)} (`npm ci` was not run in tests/e2e)"
        )
    else:
        return found
    if os.environ.get("CI") == "true":
        pytest.fail(f"{problem}: CI must install it (`make node-deps` runs npm ci in tests/e2e)")
    pytest.skip(f"{problem}: run `make test`, which installs the npm packages of tests/e2e")


def _run(
    command: list[str],
    *,
    env: dict[str, str] | None = None,
    timeout: float = 180,
    cwd: Path = E2E_DIR,
) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("CONTENTAPI_")}
    environ.update({"NO_COLOR": "1", "FORCE_COLOR": "0"}, **(env or {}))
    return subprocess.run(
        command,
        cwd=cwd,
        env=environ,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _output(process: subprocess.CompletedProcess[str]) -> str:
    return f"exit {process.returncode}\nstdout:\n{process.stdout}\nstderr:\n{process.stderr}"


@pytest.fixture(scope="module")
def node() -> str:
    """Path of node, with tests/e2e's packages installed (else skip, or fail under CI)."""
    return _require("node")


@pytest.fixture(scope="module")
def server_urls(node: str) -> Iterator[dict[str, str]]:
    """GraphQL URLs of a server on content/ (SEED_URL) and one on corpus25 (CORPUS_URL)."""
    with (
        running_server(ROOT / "content") as seed,
        running_server(ROOT / "tests" / "fixtures" / "corpus25") as corpus,
    ):
        yield {"SEED_URL": seed + "/graphql", "CORPUS_URL": corpus + "/graphql"}


def test_node_clients_against_the_servers(node: str, server_urls: dict[str, str]) -> None:
    """Apollo Client, graphql-request and the example operations: every node test passes."""
    files = sorted(path.name for path in E2E_DIR.glob("*.test.mjs"))
    assert {"apollo.test.mjs", "graphql-request.test.mjs", "examples.test.mjs"} <= set(files)
    process = _run(
        [node, "--test", "--test-reporter=spec", "--test-timeout=60000", *files], env=server_urls
    )
    output = _output(process)
    assert process.returncode == 0, output
    summary = dict(
        re.findall(r"^ℹ (tests|pass|fail|skipped|todo|cancelled) (\d+)$", process.stdout, re.M)
    )
    assert summary.get("fail") == "0", output
    assert summary.get("skipped") == "0" and summary.get("todo") == "0", output
    assert int(summary.get("pass", "0")) >= 20, output


def test_example_queries_are_valid_against_the_schema(node: str) -> None:
    process = _run([node, str(VALIDATOR)])
    output = _output(process)
    assert process.returncode == 0, output
    names = sorted(path.name for path in QUERIES_DIR.glob("*.graphql"))
    assert names == [f"{name}.graphql" for name in EXAMPLE_NAMES]
    for name in names:
        assert f"examples/queries/{name}" in process.stdout, output


def _in_type(type_name: str, old: str, new: str) -> Callable[[str], str]:
    """A schema edit: replace the line `old` by `new` inside `type <type_name> ... { }` only."""

    def edit(schema: str) -> str:
        block = re.search(rf"^type {type_name}\b[^{{]*\{{\n.*?^\}}", schema, re.M | re.S)
        assert block is not None, f"type {type_name} is not in schema.graphql"
        body = block.group(0)
        assert f"\n  {old}\n" in body, f"{old!r} is not a field line of {type_name}"
        changed = body.replace(f"\n  {old}\n", f"\n  {new}\n" if new else "\n", 1)
        return schema[: block.start()] + changed + schema[block.end() :]

    return edit


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        pytest.param(
            # Not a field of the Document interface, which Treatment must keep.
            _in_type("Treatment", "readingTimeMinutes: Int!", "minutesToRead: Int!"),
            'Cannot query field "readingTimeMinutes" on type "Treatment"',
            id="Treatment.readingTimeMinutes renamed",
        ),
        pytest.param(
            _in_type(
                "Treatment",
                'related(\n    """How many related treatments, 0 to 100."""\n    first: Int = 5\n'
                "  ): [Treatment!]!",
                "related: [Treatment!]!",
            ),
            'Unknown argument "first" on field "Treatment.related"',
            id="argument removed",
        ),
        pytest.param(
            _in_type("Query", "search(", "find("),
            'Cannot query field "search" on type "Query"',
            id="Query.search renamed",
        ),
        pytest.param(
            _in_type("Treatment", "category: Category", "category: String"),
            'Field "category" must not have a selection',
            id="object field became a scalar",
        ),
    ],
)
def test_a_schema_change_that_breaks_an_example_query_is_caught(
    node: str, tmp_path: Path, edit: Callable[[str], str], expected: str
) -> None:
    schema = SCHEMA.read_text(encoding="utf-8")
    unchanged = tmp_path / "unchanged.graphql"
    unchanged.write_text(schema, encoding="utf-8")
    process = _run([node, str(VALIDATOR), str(unchanged)])
    assert process.returncode == 0, _output(process)

    changed = tmp_path / "changed.graphql"
    changed.write_text(edit(schema), encoding="utf-8")
    process = _run([node, str(VALIDATOR), str(changed)])
    output = _output(process)
    assert process.returncode == 1, output
    assert expected in process.stderr, output
    assert str(changed) in process.stderr, output


def test_codegen_generates_typescript_types() -> None:
    npx = _require("npx")
    CODEGEN_OUTPUT.unlink(missing_ok=True)
    process = _run([npx, "--no-install", "graphql-codegen", "--config", "codegen.yml"])
    output = _output(process)
    assert process.returncode == 0, output
    generated = CODEGEN_OUTPUT.read_text(encoding="utf-8")
    assert "export type TreatmentPageQuery = " in generated, output
    for path in sorted(QUERIES_DIR.glob("*.graphql")):
        assert f"export type {path.stem}Query = " in generated, path.stem
        assert f"export type {path.stem}QueryVariables = " in generated, path.stem
    # Custom scalars are typed as configured, not `any`.
    assert "DateTime: { input: string; output: string; }" in generated


MODEL_QUERY = """
query TreatmentWithModel($slug: String!) {
  treatment(slug: $slug) {
    title price duration sessions
    practitioners { slug }
    practitionersByTreatments { slug title role since languages photo { url } }
  }
  practitionerCollection(filter: {role: {eq: nurse}}, orderBy: [{field: SINCE}]) {
    totalCount nodes { title role since }
  }
}
"""


def test_codegen_types_the_content_models_fields_without_any(tmp_path: Path) -> None:
    """GraphQL Code Generator on schema.graphql (the bundled content's, with its Decap
    content model): the typed fields, the relation both ways and the select's enum."""
    npx = _require("npx")
    (tmp_path / "query.graphql").write_text(MODEL_QUERY, encoding="utf-8")
    output = tmp_path / "types.ts"
    config = (E2E_DIR / "codegen.yml").read_text(encoding="utf-8")
    config = config.replace("../../schema.graphql", str(SCHEMA))
    config = config.replace("../../examples/queries/*.graphql", str(tmp_path / "query.graphql"))
    config = config.replace("generated/types.ts", str(output))
    (tmp_path / "codegen.yml").write_text(config, encoding="utf-8")
    process = _run(
        [npx, "--no-install", "graphql-codegen", "--config", str(tmp_path / "codegen.yml")]
    )
    assert process.returncode == 0, _output(process)
    generated = output.read_text(encoding="utf-8")
    (query,) = re.findall(r"^export type TreatmentWithModelQuery = (.*);$", generated, re.M)
    assert query == (
        "{ treatment: { title: string, price: number | null, duration: number | null, "
        "sessions: number | null, practitioners: Array<{ slug: string }>, "
        "practitionersByTreatments: Array<{ slug: string, title: string, role: "
        "PractitionerRole, since: string | null, languages: Array<string>, photo: { url: "
        "string } | null }> } | null, practitionerCollection: { totalCount: number, nodes: "
        "Array<{ title: string, role: PractitionerRole, since: string | null }> } }"
    )
    assert "  /** role is nurse. */\n  Nurse = 'nurse'\n}" in generated


def _node_suite(node: str, file: str, env: dict[str, str], tests: int) -> None:
    """Run one node test file: all of its `tests` tests pass, none skipped."""
    process = _run([node, "--test", "--test-reporter=spec", "--test-timeout=60000", file], env=env)
    output = _output(process)
    assert process.returncode == 0, output
    summary = dict(
        re.findall(r"^ℹ (tests|pass|fail|skipped|todo|cancelled) (\d+)$", process.stdout, re.M)
    )
    assert summary == {
        "tests": str(tests),
        "pass": str(tests),
        "fail": "0",
        "cancelled": "0",
        "skipped": "0",
        "todo": "0",
    }, output


def test_apollo_persisted_query_manifest_end_to_end(node: str, tmp_path: Path) -> None:
    """The real manifest generator's output is the allow-list Apollo Client's ids run on."""
    manifest_path = tmp_path / "persisted-query-manifest.json"
    config = tmp_path / "persisted-query-manifest.config.json"
    documents = [str(QUERIES_DIR / "*.graphql")]
    config.write_text(json.dumps({"documents": documents, "output": str(manifest_path)}))
    npx = _require("npx")
    generated = _run(
        [npx, "--no-install", "generate-persisted-query-manifest", "--config", str(config)]
    )
    assert generated.returncode == 0, _output(generated)
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    assert manifest["format"] == "apollo-persisted-query-manifest"
    assert manifest["version"] == 1
    operations = manifest["operations"]
    assert sorted(op["name"] for op in operations) == EXAMPLE_NAMES
    for operation in operations:
        assert operation["type"] == "query", operation["name"]
        # The ids are the SHA-256 hex of the body: the text as Apollo Client sends it,
        # with __typename added to every selection.
        assert operation["id"] == hashlib.sha256(operation["body"].encode()).hexdigest()
        assert "__typename" in operation["body"], operation["name"]
    env = {"CONTENTAPI_PERSISTED_QUERIES": str(manifest_path)}
    with running_server(ROOT / "content", env=env) as url:
        suite_env = {"PERSISTED_URL": url + "/graphql", "MANIFEST": str(manifest_path)}
        _node_suite(node, "apollo-persisted.mjs", suite_env, tests=4)


RELAY_QUERY = """import { graphql } from "relay-runtime";

export const treatmentQuery = graphql`
  query RelayTreatmentQuery($slug: String!) {
    treatment(slug: $slug) {
      id
      title
      indications {
        name
      }
    }
  }
`;
"""


@pytest.mark.parametrize(
    ("algorithm", "hash_name"),
    [
        pytest.param(None, "md5", id="MD5 (the default)"),
        pytest.param("SHA256", "sha256", id="SHA256"),
    ],
)
def test_relay_persisted_queries_end_to_end(
    node: str, tmp_path: Path, algorithm: str | None, hash_name: str
) -> None:
    """The real relay-compiler's persisted map is the allow-list relay-runtime's doc_id runs on."""
    project = tmp_path / "relay-app"
    (project / "src").mkdir(parents=True)
    (project / "src" / "RelayTreatment.js").write_text(RELAY_QUERY, encoding="utf-8")
    # The artifacts relay-compiler writes are ES modules.
    (project / "package.json").write_text('{"type": "module"}\n', encoding="utf-8")
    persisted_map = project / "persisted-queries.json"
    persisted_map.write_text("{}\n", encoding="utf-8")  # relay-compiler adds to the file
    persist: dict[str, str] = {"file": "./persisted-queries.json"}
    if algorithm is not None:
        persist["algorithm"] = algorithm
    relay_config = {
        "src": "./src",
        "schema": str(SCHEMA),
        "language": "javascript",
        "persistConfig": persist,
    }
    (project / "relay.config.json").write_text(json.dumps(relay_config), encoding="utf-8")
    compiled = _run([str(E2E_DIR / "node_modules" / ".bin" / "relay-compiler")], cwd=project)
    assert compiled.returncode == 0, _output(compiled)
    documents = json.loads(persisted_map.read_text(encoding="utf-8"))
    ((doc_id, text),) = documents.items()
    assert doc_id == hashlib.new(hash_name, text.encode()).hexdigest()
    assert text.startswith("query RelayTreatmentQuery(\n  $slug: String!\n) {\n")
    artifact = project / "src" / "__generated__" / "RelayTreatmentQuery.graphql.js"
    assert f'"id": "{doc_id}"' in artifact.read_text(encoding="utf-8")
    env = {"CONTENTAPI_PERSISTED_QUERIES": str(persisted_map)}
    with running_server(ROOT / "content", env=env) as url:
        suite_env = {"PERSISTED_URL": url + "/graphql", "ARTIFACT": str(artifact)}
        _node_suite(node, "relay-persisted.mjs", suite_env, tests=3)
