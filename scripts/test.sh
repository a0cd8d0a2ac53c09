#!/usr/bin/env bash
# Installs the test dependencies that are missing, then vets and runs
# every test with the race detector. Test data is read from ../shared/data.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh test
echo "== npm ci (browser tests)" >&2
(cd test/browser && npm ci --no-audit --no-fund --loglevel=error)
echo "== go vet" >&2
go vet ./...
echo "== gofmt" >&2
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [[ -n "$unformatted" ]]; then
  echo "gofmt would change: $unformatted" >&2
  exit 1
fi
echo "== go test -race" >&2
go test -race -timeout 20m ./...
echo "== pure-Go build (no cgo)" >&2
CGO_ENABLED=0 go build -o /dev/null ./cmd/ivr
