#!/usr/bin/env bash
# Installs what is missing, builds ./ivr and serves the demo line on its
# embedded defaults: SIP on 0.0.0.0:5060 (UDP and TCP), HTTP on
# 127.0.0.1:8080, call records in ./data. Extra arguments go to `ivr serve`.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh
go build -o ivr ./cmd/ivr
exec ./ivr serve "$@"
