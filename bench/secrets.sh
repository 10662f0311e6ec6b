#!/usr/bin/env bash
# bench/secrets.sh: secret scanning side by side — Seawall with its own rules
# (seawall) and with gitleaks' default config imported (seawall-gl), gitleaks
# (`gitleaks dir`) and trivy (`trivy fs|rootfs --scanners secret`), each peer
# with its own default rules — on the same trees, for docs/BENCHMARKS.md and
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
# peak RSS, from /usr/bin/time. Findings go to bench/out/secrets/, and
# NAME.diff.txt there lists what each tool finds that another does not.
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${SEAWALL_SHARED_DATA:-../shared/data}
PEERS=${SEAWALL_PEERS:-$HOME/.cache/seawall-peers}/bin
OUT=bench/out/secrets
RUNS=3
if [[ ${1:-} == -n ]]; then RUNS=$2; shift 2; fi
mkdir -p "$OUT"
export PATH="/usr/local/go/bin:$PATH" TRIVY_NO_PROGRESS=true

go build -trimpath -o "$OUT/seawall" ./cmd/seawall
GLCONFIG=internal/secret/gitleaks/default.toml # gitleaks' own default rules

# command TOOL KIND PATH OUT: sets cmd to the command line that scans PATH
# (a tree, or with KIND rootfs a root filesystem) and writes JSON to OUT.
command_for() {
	local tool=$1 kind=$2 path=$3 out=$4
	case $tool in
	seawall | seawall-gl)
		local flag=--dir
		[[ $kind == rootfs ]] && flag=--rootfs
		cmd=("$OUT/seawall" scan image "$flag" "$path" --scanners secret --format json --output "$out" --exit-code 0 --quiet)
		if [[ $tool == seawall-gl ]]; then cmd+=(--secret-config "$GLCONFIG"); fi ;;
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

# measure NAME KIND PATH TOOL...: each tool RUNS times, the tools taking
# turns (so that a change in the machine's load hits them alike); the best
# wall time of each, with that run's peak RSS.
measure() {
	local name=$1 kind=$2 path=$3 tool t r i
	shift 3
	declare -A best rss
	for ((i = 0; i < RUNS; i++)); do
		for tool in "$@"; do
			sync
			command_for "$tool" "$kind" "$path" "$OUT/$name.$tool.json"
			/usr/bin/time -f "%e %M" -o "$OUT/time" "${cmd[@]}" >/dev/null
			read -r t r <"$OUT/time"
			if [[ -z ${best[$tool]:-} ]] || awk "BEGIN{exit !($t < ${best[$tool]})}"; then best[$tool]=$t rss[$tool]=$r; fi
		done
	done
	for tool in "$@"; do
		printf "| %s | %s | %s | %.2f s | %d MB |\n" "$name" "$tool" "$(count "$tool" "$OUT/$name.$tool.json")" "${best[$tool]}" $((rss[$tool] / 1024))
	done
}

# compare NAME ROOT [PLANTED]: which file:line each tool reports and the
# others do not, into $OUT/NAME.diff.txt (and, with PLANTED, how many of
# the planted secrets each found).
compare() {
	python3 - "$OUT" "$1" "$2" "${3:-}" >"$OUT/$1.diff.txt" <<'EOF'
import json, os, sys
out, name, root, planted = sys.argv[1:5]
root = os.path.realpath(root)
def rel(p):
    p = os.path.realpath(p)
    return "/" + os.path.relpath(p, root) if p.startswith(root) else p
def load(tool):
    d = json.load(open(f"{out}/{name}.{tool}.json"))
    if tool == "trivy":
        return {(rel(os.path.join(root, r["Target"].lstrip("/"))), s["StartLine"]): s["RuleID"]
                for r in d.get("Results") or [] for s in r.get("Secrets") or []}
    if tool == "gitleaks":
        return {(rel(f["File"]), f["StartLine"]): f["RuleID"] for f in d or []}
    return {(f["location"]["path"], f.get("line", 0)): f["id"] for f in d.get("findings") or [] if f["kind"] == "secret"}
tools = ["seawall", "seawall-gl", "gitleaks", "trivy"]
got = {t: load(t) for t in tools}
# trivy puts a private key on the line after its BEGIN line: one line of slack.
def has(t, k):
    return any((k[0], k[1] + d) in got[t] for d in (-1, 0, 1))
for t in tools:
    print(f"{t}: {len(got[t])} findings")
for a in tools:
    for b in tools:
        if a != b:
            only = sorted(k for k in got[a] if not has(b, k))
            print(f"\n{a} finds, {b} does not ({len(only)}):")
            for k in only:
                print(f"  {k[0]}:{k[1]} {got[a][k]}")
if planted:
    want = {}
    for line in open(planted):
        p, n, kind = line.rstrip("\n").split("\t")
        want[(p, int(n))] = kind
    print()
    for t in tools:
        hit = sum(1 for k in want if has(t, k))
        missed = {}
        for k in want:
            if not has(t, k):
                missed[want[k]] = missed.get(want[k], 0) + 1
        extra = sum(1 for k in got[t] if not any((k[0], k[1] + d) in want for d in (-1, 0, 1)))
        print(f"{t}: {hit} of {len(want)} planted found, {extra} other findings; missed by kind: {missed}")
EOF
	grep -E "^[a-z-]+: [0-9]+ (findings|of)" "$OUT/$1.diff.txt" | sed "s/^/  $1 /" >&2
}

TOOLS=(seawall seawall-gl gitleaks trivy)
target() {
	case $1 in
	gitleaks-testdata)
		measure "$1" fs "$DATA/secrets/gitleaks/testdata" "${TOOLS[@]}"
		compare "$1" "$DATA/secrets/gitleaks/testdata" ;;
	detect-secrets)
		measure "$1" fs "$DATA/secrets/detect-secrets/test_data" "${TOOLS[@]}"
		compare "$1" "$DATA/secrets/detect-secrets/test_data" ;;
	debian)
		local tgz=$DATA/images/debian-bookworm-minbase.rootfs.tar.gz dir=$OUT/debian-rootfs
		if [[ ! -d $dir ]]; then mkdir -p "$dir" && tar -xzf "$tgz" -C "$dir" 2>/dev/null || true; fi
		measure debian-dir rootfs "$dir" "${TOOLS[@]}"
		compare debian-dir "$dir"
		measure debian-tarball rootfs "$tgz" seawall ;;
	synthetic)
		local dir=$OUT/synthetic
		[[ -d $dir ]] || go run ./bench/secretgen -out "$dir"
		measure "$1" fs "$dir" "${TOOLS[@]}"
		compare "$1" "$dir" "$OUT/synthetic.planted.tsv" ;;
	*) echo "secrets.sh: unknown target $1" >&2; exit 2 ;;
	esac
}

echo "| target | tool | findings | wall (best of $RUNS) | peak RSS |"
echo "|---|---|---:|---:|---:|"
targets=("$@")
[[ ${#targets[@]} -gt 0 ]] || targets=(gitleaks-testdata detect-secrets debian synthetic)
for t in "${targets[@]}"; do target "$t"; done
