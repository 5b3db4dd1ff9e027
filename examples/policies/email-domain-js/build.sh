#!/bin/sh
# Builds the JavaScript policy into the component file $1, installing componentize-js from the npm
# registry first when it is missing (what package-lock.json pins). Used by the test suite and the benchmark.
set -e
out=$(realpath -m "$1")
cd "$(dirname "$0")"
[ -d node_modules/@bytecodealliance/componentize-js ] || npm ci --no-audit --no-fund
node build.mjs policy.js "$out"
