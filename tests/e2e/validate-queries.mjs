#!/usr/bin/env node
// Validate the example operations against the exported schema with graphql-js.
//
//   node validate-queries.mjs [SCHEMA] [QUERIES_DIR]
//
// SCHEMA defaults to the project's schema.graphql (written by `contentapi export-schema`),
// QUERIES_DIR to examples/queries. Each *.graphql file must parse, pass every rule of the
// GraphQL specification against the schema, and hold one operation named like the file.
// Prints each problem as file:line:column and exits 1 if there is any.
import { readFileSync, readdirSync } from "node:fs";
import { basename, isAbsolute, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { GraphQLError, Kind, buildSchema, parse, validate } from "graphql";

const project = resolve(fileURLToPath(new URL("../..", import.meta.url)));
const schemaPath = resolve(process.argv[2] ?? join(project, "schema.graphql"));
const queriesDir = resolve(process.argv[3] ?? join(project, "examples", "queries"));
// Paths inside the project are shown relative to it, others in full.
const shown = (path) => {
  const inside = relative(project, path);
  return inside && !inside.startsWith("..") && !isAbsolute(inside) ? inside : path;
};

function where(file, error) {
  const location = error.locations?.[0];
  return location ? `${shown(file)}:${location.line}:${location.column}` : shown(file);
}

let schema;
try {
  schema = buildSchema(readFileSync(schemaPath, "utf8"));
} catch (error) {
  console.error(`${shown(schemaPath)}: cannot build the schema: ${error.message}`);
  process.exit(2);
}

const files = readdirSync(queriesDir)
  .filter((name) => name.endsWith(".graphql"))
  .sort()
  .map((name) => join(queriesDir, name));
if (files.length === 0) {
  console.error(`${shown(queriesDir)}: no *.graphql files to validate`);
  process.exit(2);
}

const problems = [];
for (const file of files) {
  let document;
  try {
    document = parse(readFileSync(file, "utf8"));
  } catch (error) {
    if (!(error instanceof GraphQLError)) throw error;
    problems.push(`${where(file, error)}: ${error.message}`);
    continue;
  }
  for (const error of validate(schema, document)) {
    problems.push(`${where(file, error)}: ${error.message}`);
  }
  const operations = document.definitions.filter((d) => d.kind === Kind.OPERATION_DEFINITION);
  const expected = basename(file, ".graphql");
  if (operations.length !== 1 || operations[0].name?.value !== expected) {
    const names = operations.map((o) => o.name?.value ?? "(anonymous)").join(", ") || "none";
    problems.push(
      `${shown(file)}: must hold exactly one operation named ${expected}, found: ${names}`,
    );
  }
}

if (problems.length > 0) {
  console.error(
    `${problems.length} problem(s) in ${shown(queriesDir)} against ${shown(schemaPath)}:`,
  );
  for (const problem of problems) console.error(`  ${problem}`);
  process.exit(1);
}
console.log(`${files.length} operation(s) valid against ${shown(schemaPath)}:`);
for (const file of files) console.log(`  ${shown(file)}`);
