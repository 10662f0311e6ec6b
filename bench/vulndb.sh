#!/usr/bin/env bash
# bench/vulndb.sh: the vulnerability database benchmarks on all the staged
# OSV data (../shared/data/osv, ~14.7k records): import rate, open time,
# lookup latency and file size, for the SQLite store Seawall uses and a
# custom sorted-file candidate. Prints the median of RUNS runs of each
# benchmark as Markdown rows for docs/BENCHMARKS.md, and keeps the raw
# `go test -bench` output in bench/out/vulndb.txt.
#
# Usage: bench/vulndb.sh [RUNS]   (default 5)
# Needs ../shared/data (or SEAWALL_SHARED_DATA).
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-5}
OUT=bench/out
mkdir -p "$OUT"
export PATH="/usr/local/go/bin:$PATH"
raw=$OUT/vulndb.txt
: >"$raw"
b() { go test ./internal/vulndb -run '^$' -count "$RUNS" -bench "$1" -benchtime "$2" | grep '^Benchmark' >>"$raw"; }
b '^BenchmarkImport$' 1x
b '^BenchmarkStore$' 3x
b '^BenchmarkOpen$' 1000x
b '^BenchmarkLookup$' 5000x
b '^BenchmarkDBLookup$' 300x

# median NAME UNIT: the median of the value before UNIT over the runs of NAME.
median() {
	grep "^$1-[0-9]* " "$raw" | awk -v u="$2" '{for (i = 3; i <= NF; i++) if ($(i) == u) print $(i-1)}' |
		sort -g | awk '{v[NR] = $1} END {if (NR) print v[int((NR + 1) / 2)]; else print "?"}'
}
ms() { awk -v n="$1" 'BEGIN {printf "%.2f ms", n / 1e6}'; }
us() { awk -v n="$1" 'BEGIN {printf "%.1f µs", n / 1e3}'; }
echo "cores: $(nproc), load average before: $(cut -d' ' -f1-3 /proc/loadavg), $(go version | cut -d' ' -f3)"
echo
echo "| measure | sqlite (chosen) | sorted file |"
echo "|---|---|---|"
echo "| full import of the staged data: read, parse, validate, store (records/s) | $(median BenchmarkImport records/s | cut -d. -f1) | – |"
echo "| store phase only, pre-parsed records (records/s) | $(median BenchmarkStore/sqlite records/s | cut -d. -f1) | $(median BenchmarkStore/sorted records/s | cut -d. -f1) |"
echo "| file size | $(median BenchmarkStore/sqlite MiB) MiB | $(median BenchmarkStore/sorted MiB) MiB |"
echo "| open + first lookup | $(ms "$(median BenchmarkOpen/sqlite ns/op)") | $(ms "$(median BenchmarkOpen/sorted ns/op)") |"
echo "| lookup, blobs only (mean over every staged package) | $(us "$(median BenchmarkLookup/sqlite/raw ns/op)") | $(us "$(median BenchmarkLookup/sorted/raw ns/op)") |"
echo "| lookup, decoded records (mean over every staged package) | $(us "$(median BenchmarkLookup/sqlite/decoded ns/op)") | $(us "$(median BenchmarkLookup/sorted/decoded ns/op)") |"
echo
echo "| DB.Lookup (sqlite) | records | time |"
echo "|---|---|---|"
for k in Go/stdlib PyPI/django Go/golang.org/x/net crates.io/openssl npm/no-such-package; do
	echo "| $k | $(median "BenchmarkDBLookup/$k" records) | $(us "$(median "BenchmarkDBLookup/$k" ns/op)") |"
done
