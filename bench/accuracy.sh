#!/usr/bin/env bash
# bench/accuracy.sh: run seawall sbom, syft and trivy on the same images and
# source trees and compare their package URLs (bench/purldiff), for
# docs/ACCURACY.md. Needs ../shared/data and the peers from bench/peers.sh;
# builds the images with bench/mkimage and bench/polyglot.sh when missing.
#
# Usage: bench/accuracy.sh [TARGET...]   (default: every target)
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${SEAWALL_SHARED_DATA:-../shared/data}
PEERS=${SEAWALL_PEERS:-$HOME/.cache/seawall-peers}/bin
OUT=bench/out
I=$OUT/images
mkdir -p "$OUT/accuracy"
export PATH="/usr/local/go/bin:$PATH" TRIVY_NO_PROGRESS=true

go build -trimpath -o "$OUT/seawall" ./cmd/seawall
base=$DATA/images/debian-bookworm-minbase.rootfs.tar.gz
[ -d "$I/debian-minbase.oci" ] || go run ./bench/mkimage -out "$I" -name debian-minbase "$base" >/dev/null
[ -d "$I/debian-downgraded.oci" ] || go run ./bench/mkimage -out "$I" -name debian-downgraded "$base" "$DATA/images/debian-bookworm-downgraded.layer.tar.gz" >/dev/null
[ -d "$I/polyglot.oci" ] || bench/polyglot.sh >/dev/null

image() { # NAME [TRIVY_ARGS...]
	local n=$1; shift
	local o=$OUT/accuracy/$n
	"$OUT/seawall" sbom "$I/$n.oci" -f cyclonedx -o "$o.seawall.json" -q
	"$PEERS/syft" "oci-dir:$I/$n.oci" -o "cyclonedx-json=$o.syft.json" -q
	"$PEERS/trivy" image --input "$I/$n.oci" --format cyclonedx --output "$o.trivy.json" --cache-backend memory --quiet "$@"
	echo "### image $n"
	go run ./bench/purldiff seawall="$o.seawall.json" syft="$o.syft.json" trivy="$o.trivy.json"
	echo
}

tree() { # NAME DIR
	local n=$1 d=$2
	local o=$OUT/accuracy/$n
	"$OUT/seawall" sbom --dir "$d" -f cyclonedx -o "$o.seawall.json" -q
	"$PEERS/syft" "dir:$d" -o "cyclonedx-json=$o.syft.json" -q
	"$PEERS/trivy" fs "$d" --format cyclonedx --output "$o.trivy.json" --quiet --skip-java-db-update 2>/dev/null ||
		"$PEERS/trivy" fs "$d" --format cyclonedx --output "$o.trivy.json" --quiet --skip-files '**/*.jar'
	echo "### source tree $n ($d)"
	go run ./bench/purldiff seawall="$o.seawall.json" syft="$o.syft.json" trivy="$o.trivy.json"
	echo
}

targets=${*:-debian-minbase debian-downgraded polyglot trivy-repo}
for t in $targets; do
	case $t in
	debian-minbase | debian-downgraded) image "$t" ;;
	# trivy reads jars only with its Java DB, which it must download; offline
	# it refuses the whole scan, so its run skips /usr/share/java.
	polyglot) image polyglot --skip-dirs usr/share/java ;;
	trivy-repo) tree trivy-repo "$DATA/golden/trivy-integration/integration/testdata/fixtures/repo" ;;
	*) echo "unknown target $t" >&2; exit 2 ;;
	esac
done
