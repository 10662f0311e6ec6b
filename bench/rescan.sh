#!/usr/bin/env bash
# bench/rescan.sh: the registry's rescan after a vulnerability database
# update, for docs/BENCHMARKS.md. 200 Debian 12 images (the bookworm
# minbase package set; half with glibc downgraded) are pushed into a real
# SQLite store and blob storage and scanned; then, each round, one new
# advisory affecting that half is imported and every stored SBOM is
# rematched. The benchmark fails if a rematch reads any blob, or if the
# first one does not change exactly 100 verdicts.
#
# There is no peer in this comparison: Harbor's "scan all" re-reads every
# image through its scanner (Trivy), which has no offline database here.
#
# Usage: bench/rescan.sh [ROUNDS]   (default 5)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-5}
echo "# $(date -u +%FT%TZ) $(nproc) CPUs, load: $(cut -d' ' -f1-3 /proc/loadavg)"
go test ./internal/scanq -run '^$' -bench 'Rematch200' -benchtime "${rounds}x" -count 1
