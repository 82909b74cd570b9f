#!/usr/bin/env bash
# Vendor a released GraphiQL 3 browser (UMD) build plus React 18 into
# contentapi/static/graphiql/ so the app can serve GraphiQL with no CDN.
#
# Versions are pinned exactly (resolved once from graphiql@3, react@18,
# react-dom@18); bump them here deliberately, re-run, and review the diff of
# VERSIONS.txt.  npm checks each tarball against the registry's integrity
# hash; the sha512 values below are checked again after download.
#
# Usage: scripts/vendor-graphiql.sh   (needs node/npm, tar, sha256sum; reaches the npm registry)
set -euo pipefail

GRAPHIQL_VERSION=3.9.0
REACT_VERSION=18.3.1
REACT_DOM_VERSION=18.3.1

# npm "dist.integrity" of each pinned tarball.
declare -A INTEGRITY=(
  [graphiql-${GRAPHIQL_VERSION}.tgz]="sha512-rJYFlHdBbug9+YbFSwRVvgfPjCayC7wHecZkx/qB4XLuQPFQZw/yB9pmHFtOJV6RiNBBHro3u1GdocKa3YcGRA=="
  [react-${REACT_VERSION}.tgz]="sha512-wS+hAgJShR0KhEvPJArfuPVN1+Hz1t0Y6n5jLrGQbkb4urgPE/0Rve+1kMB1v/oWgHgm4WIcV+i7F2pTVj+2iQ=="
  [react-dom-${REACT_DOM_VERSION}.tgz]="sha512-5m4nQKp+rZRb09LNH59GM4BxTh9251/ylbKIbpe7TpGxfJ+9kv6BLkLBXIjjspbgbnIBNqlI23tRnTWT0snUIw=="
)

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dest="${repo_root}/contentapi/static/graphiql"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

cd "$tmp"
echo "npm pack graphiql@${GRAPHIQL_VERSION} react@${REACT_VERSION} react-dom@${REACT_DOM_VERSION}" >&2
npm pack --silent \
  "graphiql@${GRAPHIQL_VERSION}" \
  "react@${REACT_VERSION}" \
  "react-dom@${REACT_DOM_VERSION}" >/dev/null

for tgz in "${!INTEGRITY[@]}"; do
  [[ -f "$tgz" ]] || { echo "missing $tgz after npm pack" >&2; exit 1; }
  got="$(node -e 'const c=require("crypto"),f=require("fs");process.stdout.write("sha512-"+c.createHash("sha512").update(f.readFileSync(process.argv[1])).digest("base64"))' "$tgz")"
  if [[ "$got" != "${INTEGRITY[$tgz]}" ]]; then
    echo "integrity mismatch for $tgz: got $got, want ${INTEGRITY[$tgz]}" >&2
    exit 1
  fi
  name="${tgz%.tgz}"
  mkdir -p "x/$name"
  tar -xzf "$tgz" -C "x/$name"
done

g="x/graphiql-${GRAPHIQL_VERSION}/package"
r="x/react-${REACT_VERSION}/package"
rd="x/react-dom-${REACT_DOM_VERSION}/package"

# source-in-package -> name-in-dest
copies=(
  "$g/graphiql.min.js:graphiql.min.js"
  "$g/graphiql.min.css:graphiql.min.css"
  "$r/umd/react.production.min.js:react.production.min.js"
  "$rd/umd/react-dom.production.min.js:react-dom.production.min.js"
  "$g/LICENSE:LICENSE.graphiql"
  "$r/LICENSE:LICENSE.react"
  "$rd/LICENSE:LICENSE.react-dom"
)

mkdir -p "$dest"
for c in "${copies[@]}"; do
  src="${c%%:*}"
  dst="${c##*:}"
  [[ -f "$src" ]] || { echo "missing $src in package" >&2; exit 1; }
  install -m 0644 "$src" "$dest/$dst"
done

{
  echo "# Vendored by scripts/vendor-graphiql.sh - do not edit by hand."
  echo "graphiql@${GRAPHIQL_VERSION}"
  echo "react@${REACT_VERSION}"
  echo "react-dom@${REACT_DOM_VERSION}"
  echo
  echo "# sha256  file"
  for c in "${copies[@]}"; do
    dst="${c##*:}"
    (cd "$dest" && sha256sum "$dst")
  done
} >"$dest/VERSIONS.txt"

echo "vendored into $dest:" >&2
cat "$dest/VERSIONS.txt" >&2
