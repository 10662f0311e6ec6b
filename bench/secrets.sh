#!/usr/bin/env bash
# bench/secrets.sh: secret scanning side by side — Seawall, gitleaks (`gitleaks
# dir`) and trivy (`trivy fs|rootfs --scanners secret`), each with its own
# default rules — on the same trees, for docs/BENCHMARKS.md and
# docs/ACCURACY.md. Needs ../shared/data and the peers from bench/peers.sh
# (`bench/peers.sh gitleaks trivy`).
#
# Targets:
#   gitleaks-testdata  ../shared/data/secrets/gitleaks/testdata
#   detect-secrets     ../shared/data/secrets/detect-secrets/test_data
#   debian             the Debian bookworm minbase rootfs, extracted (and, for
#                      Seawall, also read straight from its tarball)
#   synthetic          1 GiB written by bench/secretgen (deterministic; the
#                      planted secrets are listed next to it)
#
# Usage: bench/secrets.sh [-n RUNS] [TARGET...]   (default: 3 runs, every target)
# Each measurement is the fastest of RUNS runs (wall time), with that run's
# peak RSS, from /usr/bin/time. Findings go to bench/out/secrets/.
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${SEAWALL_SHARED_DATA:-../shared/data}
PEERS=${SEAWALL_PEERS:-$HOME/.cache/seawall-peers}/bin
OUT=bench/out/secrets
RUNS=3
if [[ ${1:-} == -n ]]; then RUNS=$2; shift 2; fi
mkdir -p "$OUT"
export PATH="/usr/local/go/bin:$PATH" TRIVY_NO_PROGRESS=true

# Seawall: the CLI once `seawall scan image` has --scanners; until then the
# harness bench/secretscan, which runs the same walk and scanner.
go build -trimpath -o "$OUT/seawall" ./cmd/seawall
CLI=0
if "$OUT/seawall" scan image --help 2>&1 | grep -q -- --scanners; then
	CLI=1
else
	go build -trimpath -o "$OUT/secretscan" ./bench/secretscan
fi

# command TOOL KIND PATH OUT: sets cmd to the command line that scans PATH
# (a tree, or with KIND rootfs a root filesystem) and writes JSON to OUT.
command_for() {
	local tool=$1 kind=$2 path=$3 out=$4
	case $tool in
	seawall)
		if ((CLI)); then
			local flag=--dir
			[[ $kind == rootfs ]] && flag=--rootfs
			cmd=("$OUT/seawall" scan image "$flag" "$path" --scanners secret --format json --output "$out" --exit-code 0)
		else
			local flag=-dir
			[[ $kind == rootfs ]] && flag=-rootfs
			cmd=("$OUT/secretscan" "$flag" "$path" -o "$out")
		fi ;;
	gitleaks) cmd=("$PEERS/gitleaks" dir "$path" --no-banner --log-level error --exit-code 0 -f json -r "$out") ;;
	trivy)
		local sub=fs
		[[ $kind == rootfs ]] && sub=rootfs
		cmd=("$PEERS/trivy" "$sub" --scanners secret --format json --output "$out" --cache-dir "$OUT/trivy-cache" --quiet "$path") ;;
	esac
}

# count TOOL FILE: findings in a tool's JSON output.
count() {
	python3 - "$1" "$2" <<'EOF'
import json, sys
tool, path = sys.argv[1], sys.argv[2]
d = json.load(open(path))
if tool == "trivy":
    print(sum(len(r.get("Secrets") or []) for r in d.get("Results") or []))
elif isinstance(d, dict):  # seawall's report
    print(sum(1 for f in d.get("findings") or [] if f.get("kind") == "secret"))
else:
    print(len(d or []))
EOF
}

# measure NAME TOOL KIND PATH: the fastest of RUNS runs.
measure() {
	local name=$1 tool=$2 kind=$3 path=$4 best="" rss="" t
	local out=$OUT/$name.$tool.json
	for _ in $(seq "$RUNS"); do
		sync
		command_for "$tool" "$kind" "$path" "$out"
		/usr/bin/time -f "%e %M" -o "$OUT/time" "${cmd[@]}" >/dev/null
		read -r t r <"$OUT/time"
		if [[ -z $best ]] || awk "BEGIN{exit !($t < $best)}"; then best=$t rss=$r; fi
	done
	printf "| %s | %s | %s | %.2f s | %d MB |\n" "$name" "$tool" "$(count "$tool" "$out")" "$best" $((rss / 1024))
}

target() {
	case $1 in
	gitleaks-testdata)
		for t in seawall gitleaks trivy; do measure "$1" $t fs "$DATA/secrets/gitleaks/testdata"; done ;;
	detect-secrets)
		for t in seawall gitleaks trivy; do measure "$1" $t fs "$DATA/secrets/detect-secrets/test_data"; done ;;
	debian)
		local tgz=$DATA/images/debian-bookworm-minbase.rootfs.tar.gz dir=$OUT/debian-rootfs
		if [[ ! -d $dir ]]; then mkdir -p "$dir" && tar -xzf "$tgz" -C "$dir" 2>/dev/null || true; fi
		for t in seawall gitleaks trivy; do measure debian-dir $t rootfs "$dir"; done
		measure debian-tarball seawall rootfs "$tgz" ;;
	synthetic)
		local dir=$OUT/synthetic
		[[ -d $dir ]] || go run ./bench/secretgen -out "$dir"
		for t in seawall gitleaks trivy; do measure "$1" $t fs "$dir"; done ;;
	*) echo "secrets.sh: unknown target $1" >&2; exit 2 ;;
	esac
}

echo "| target | tool | findings | wall (best of $RUNS) | peak RSS |"
echo "|---|---|---:|---:|---:|"
targets=("$@")
[[ ${#targets[@]} -gt 0 ]] || targets=(gitleaks-testdata detect-secrets debian synthetic)
for t in "${targets[@]}"; do target "$t"; done
