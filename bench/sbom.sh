#!/usr/bin/env bash
# bench/sbom.sh: time `seawall sbom` side by side with syft and trivy on the
# same images, in the same run: whole-process wall time and peak RSS, the
# median of N runs (default 5). Prints Markdown rows for docs/BENCHMARKS.md.
#
# Usage: bench/sbom.sh [RUNS]
# Needs ../shared/data (the Debian images) and the peers from bench/peers.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-5}
DATA=${SEAWALL_SHARED_DATA:-../shared/data}
PEERS=${SEAWALL_PEERS:-$HOME/.cache/seawall-peers}/bin
OUT=bench/out
mkdir -p "$OUT/images"
export PATH="/usr/local/go/bin:$PATH"

go build -trimpath -o "$OUT/seawall" ./cmd/seawall
base=$DATA/images/debian-bookworm-minbase.rootfs.tar.gz
down=$DATA/images/debian-bookworm-downgraded.layer.tar.gz
[ -d "$OUT/images/debian-downgraded.oci" ] || go run ./bench/mkimage -out "$OUT/images" -name debian-downgraded "$base" "$down" >/dev/null

# measure NAME CMD...: runs CMD RUNS times after one warm-up; prints median
# seconds and median peak RSS in MiB.
measure() {
	local name=$1; shift
	"$@" >/dev/null 2>&1 || { echo "| $name | failed: $* |"; return; }
	local ts=() ms=() tf
	tf=$(mktemp)
	for _ in $(seq "$RUNS"); do
		/usr/bin/time -f '%e %M' -o "$tf" "$@" >/dev/null 2>&1
		local line
		line=$(tail -n1 "$tf")
		ts+=("${line% *}"); ms+=("${line#* }")
	done
	rm -f "$tf"
	local t m
	t=$(printf '%s\n' "${ts[@]}" | sort -g | sed -n "$(( (RUNS+1)/2 ))p")
	m=$(printf '%s\n' "${ms[@]}" | sort -g | sed -n "$(( (RUNS+1)/2 ))p")
	printf '| %s | %.2f s | %d MiB |\n' "$name" "$t" "$((m/1024))"
}

archive=$OUT/images/debian-downgraded.docker.tar
layout=$OUT/images/debian-downgraded.oci
export TRIVY_NO_PROGRESS=true
echo "### docker save archive, uncompressed layers ($archive)"
echo "| tool | wall (median of $RUNS) | peak RSS |"
echo "|---|---|---|"
measure "seawall sbom" "$OUT/seawall" sbom "$archive" --format cyclonedx --quiet
measure "syft" "$PEERS/syft" "docker-archive:$archive" -o cyclonedx-json -q
measure "trivy" "$PEERS/trivy" image --input "$archive" --format cyclonedx --cache-backend memory --quiet
echo
echo "### OCI layout, gzip layers ($layout)"
echo "| tool | wall (median of $RUNS) | peak RSS |"
echo "|---|---|---|"
measure "seawall sbom" "$OUT/seawall" sbom "$layout" --format cyclonedx --quiet
measure "syft" "$PEERS/syft" "oci-dir:$layout" -o cyclonedx-json -q
measure "trivy" "$PEERS/trivy" image --input "$layout" --format cyclonedx --cache-backend memory --quiet
blobs=$(ls "$layout"/blobs/sha256/* | while read -r b; do [ "$(head -c2 "$b" | od -An -tx1 | tr -d ' ')" = 1f8b ] && echo "$b"; done)
# shellcheck disable=SC2086
measure "floor: gzip -dc of every layer, in parallel" bash -c "for b in $(echo $blobs); do gzip -dc \$b >/dev/null & done; wait"
