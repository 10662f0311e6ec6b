#!/usr/bin/env bash
# bench/config.sh: run `seawall scan config` and `trivy config` (its
# embedded checks, offline) on the same Dockerfiles and compare the
# findings (bench/configdiff), for the "Configuration" section of
# docs/ACCURACY.md. Needs trivy from bench/peers.sh.
#
# Usage: bench/config.sh [DIR]   (default: internal/dockerfile/testdata/dockerfiles)
set -euo pipefail
cd "$(dirname "$0")/.."
PEERS=${SEAWALL_PEERS:-$HOME/.cache/seawall-peers}/bin
OUT=bench/out/config
DIR=${1:-internal/dockerfile/testdata/dockerfiles}
mkdir -p "$OUT"
export PATH="/usr/local/go/bin:$PATH" TRIVY_NO_PROGRESS=true

go build -trimpath -o bench/out/seawall ./cmd/seawall
bench/out/seawall scan config "$DIR" --format json --output "$OUT/seawall.json" --ignorefile "" --quiet
# --skip-check-update: use the checks built into trivy; there is no network.
"$PEERS/trivy" config --format json --output "$OUT/trivy.json" --skip-check-update --quiet "$DIR"
echo "seawall: $(bench/out/seawall version | head -n1); trivy: $("$PEERS/trivy" --version | head -n1)"
go run ./bench/configdiff "$OUT/seawall.json" "$OUT/trivy.json"
