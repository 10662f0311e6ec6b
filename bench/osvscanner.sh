#!/usr/bin/env bash
# bench/osvscanner.sh: Seawall next to osv-scanner v1.9.2 on the same lockfiles
# and the same OSV data (issue 3, "How we will know it is right", items 4 and 5):
# the findings side by side for docs/ACCURACY.md, and the end-to-end wall time
# for docs/BENCHMARKS.md.
#
# Usage: bench/osvscanner.sh [--no-time]   (--no-time skips the hyperfine runs)
# Needs ../shared/data (or SEAWALL_SHARED_DATA), hyperfine, and osv-scanner from
# bench/peers.sh (built when missing, ~3.5 min).
#
# What it does, all under bench/out/osvscanner (W below):
#
# 1. The OSV data. The same staged records go to both tools (INPUTS below):
#    - Seawall: `seawall db import --replace --db W/seawall-db INPUTS...`;
#    - osv-scanner: bench/osvzip writes W/osvdb/osv-scanner/<ECOSYSTEM>/all.zip,
#      one <ID>.json per record, in the zip of every ecosystem its
#      affected[].package.ecosystem names (the part before ':', as osv.dev's
#      exports: Debian:12 -> Debian, AlmaLinux:9 -> AlmaLinux). PyPA's YAML
#      becomes JSON with its scalars as written. An ID seen twice keeps the
#      later "modified", as a Seawall import does.
#    osv-scanner v1.9.2 reads them with
#      --experimental-offline --experimental-local-db-path W/osvdb
#    (internal/local/check.go: path.Join(DIR, "osv-scanner", ecosystem,
#    "all.zip"); offline, a missing zip is "no local database", never a
#    download). --experimental-offline also sets --skip-git,
#    --experimental-no-resolve (no deps.dev / Maven Central for pom.xml)
#    and --experimental-offline-vulnerabilities.
#
# 2. The lockfiles. Three sets are staged under W/locks/<set>, each file under
#    the name both tools recognise (osv-scalibr's fixtures are named after
#    their test case, e.g. one-package.v2.json -> .../one-package.v2/package-lock.json);
#    only formats that osv-scanner v1.9.2 also reads are taken (it has no
#    bun.lock, uv.lock, gems.locked, deps.json or packages.config), and no
#    osv-scanner.toml or .seawallignore is copied, so nothing is ignored:
#    - osv-scanner: its own source and image test data (golden/osv-scanner);
#    - trivy:       trivy's integration fixtures (fixtures/repo/{pip,…,gradle}),
#                   without node_modules (installed packages, not lockfiles);
#    - lockfiles:   the syft and osv-scalibr parser fixtures (lockfiles/).
#
# 3. The findings. Each tool scans each set once:
#      seawall scan image --dir W/locks/SET --db W/seawall-db --format json
#      osv-scanner --format json --experimental-offline --experimental-local-db-path W/osvdb
#                  --experimental-all-packages --no-call-analysis=all --recursive --no-ignore
#                  W/locks/SET
#    (call analysis is off: it runs govulncheck, i.e. the go command, on each
#    Go module, and only annotates findings; Seawall does no call analysis)
#    and bench/osvdiff compares them per lockfile and package, a vulnerability
#    being the same when the ID/alias sets intersect. The report is
#    W/accuracy.md. No network is used: every run has HTTP(S)_PROXY at a dead
#    port, and one osv-scanner and one Seawall run go under strace, which
#    counts their connect() calls to IP addresses (expected: 0).
#
# 4. The time. hyperfine --warmup 1 --runs 5, both commands on the same set,
#    once per set and once over all three (W/locks); JSON in W/hyperfine-*.json,
#    the summary in W/bench.md.
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=$(realpath "${SEAWALL_SHARED_DATA:-../shared/data}")
PEERS=${SEAWALL_PEERS:-$HOME/.cache/seawall-peers}/bin
OUT=bench/out
W=$(realpath -m "$OUT/osvscanner")
TIME=1
[ "${1:-}" = --no-time ] && TIME=0
export PATH="/usr/local/go/bin:$PATH"

O=$DATA/osv
INPUTS=(
	"$O/go-vulndb/data/osv"
	"$O/pypa-advisory-database"
	"$O/rustsec-osv"
	"$O/almalinux"
	"$O/ghsa-selected"
	"$O/osvdev-export-from-osv-scalibr"
	"$O/debian12-changelog-derived"
)

mkdir -p "$W"
# Build everything first: the go command may need the module proxy.
go build -trimpath -o "$OUT/seawall" ./cmd/seawall
go build -o "$W/osvzip" ./bench/osvzip
go build -o "$W/osvdiff" ./bench/osvdiff
SEAWALL=$(realpath "$OUT/seawall")
[ -x "$PEERS/osv-scanner" ] || bench/peers.sh osv-scanner
OSV=$PEERS/osv-scanner
# From here on, a dead proxy: any HTTP(S) request either tool made would fail.
export HTTP_PROXY=http://127.0.0.1:9 HTTPS_PROXY=http://127.0.0.1:9 http_proxy=http://127.0.0.1:9 https_proxy=http://127.0.0.1:9
unset NO_PROXY no_proxy
echo "== $("$SEAWALL" version 2>/dev/null | head -1); $("$OSV" --version | head -1)"
rm -f "$W"/*.seawall.json "$W"/*.osv.json "$W"/*.osv.log "$W"/accuracy.md "$W"/network.txt "$W"/strace.*

echo "== OSV data"
rm -rf "$W/osvdb" "$W/seawall-db"
"$W/osvzip" -out "$W/osvdb" "${INPUTS[@]}" | tee "$W/osvdb.txt"
"$SEAWALL" db import --replace --db "$W/seawall-db" "${INPUTS[@]}" 2>&1 | tee "$W/seawall-db.txt"

# ---- the lockfiles -------------------------------------------------------
L=$W/locks
rm -rf "$L"
put() { install -D -m 644 "$1" "$L/$2"; } # SRC DEST (relative to W/locks)

G=$DATA/golden/osv-scanner/cmd/osv-scanner/scan
S=$G/source/testdata
for f in Gemfile.lock composer.lock package-lock.json yarn.lock; do put "$S/locks-many/$f" "osv-scanner/locks-many/$f"; done
put "$S/locks-many/replace-local.mod" osv-scanner/locks-many/go.mod
put "$S/locks-insecure/composer.lock" osv-scanner/locks-insecure/composer.lock
put "$S/locks-insecure/my-package-lock.json" osv-scanner/locks-insecure/package-lock.json
put "$S/locks-insecure/my-yarn.lock" osv-scanner/locks-insecure/yarn.lock
for f in requirements.txt requirements.prod.txt requirements-dev.txt requirements-transitive.txt \
	my-requirements.txt the_requirements_for_test.txt unresolvable-requirements.txt; do
	put "$S/locks-requirements/$f" "osv-scanner/locks-requirements/$f"
done
put "$S/locks-scalibr/packages.lock.json" osv-scanner/locks-scalibr/packages.lock.json
put "$S/locks-licenses/package-lock.json" osv-scanner/locks-licenses/package-lock.json
put "$S/go-project/go.mod" osv-scanner/go-project/go.mod
put "$S/call-analysis-go-project/go.mod" osv-scanner/call-analysis-go-project/go.mod
put "$S/maven-transitive/pom.xml" osv-scanner/maven-transitive/pom.xml
for d in clean deprecated-novuln deprecated-vuln; do put "$S/exp-plugins-pkgdeprecate/$d/Cargo.lock" "osv-scanner/pkgdeprecate-$d/Cargo.lock"; done
put "$S/exp-plugins-pkgdeprecate/deprecated-npm/package-lock.json" osv-scanner/pkgdeprecate-npm/package-lock.json
put "$G/image/testdata/java-fixture/app/pom.xml" osv-scanner/image-java-fixture/pom.xml
put "$G/image/testdata/python-fixture/requirements.txt" osv-scanner/image-python-fixture/requirements.txt
put "$G/image/testdata/test-image-with-deprecated/Cargo.lock" osv-scanner/image-deprecated/Cargo.lock
put "$G/image/testdata/package-tracing-fixture/go.mod" osv-scanner/image-package-tracing/go.mod

T=$DATA/golden/trivy-integration/integration/testdata/fixtures/repo
for d in pip pipenv poetry npm yarn pnpm cargo composer nuget gomod pom gradle; do
	(cd "$T/$d" && find . -path ./node_modules -prune -o -type f -print) | while read -r f; do put "$T/$d/$f" "trivy/$d/${f#./}"; done
done

Y=$DATA/lockfiles/syft/syft/pkg/cataloger
for f in dotnet/testdata/packages.lock.json dotnet/testdata/image-net8-app/src/packages.lock.json \
	golang/testdata/go-mod-fixtures/many-packages/go.mod golang/testdata/go-mod-fixtures/one-package/go.mod \
	golang/testdata/go-mod-fixtures/relative-replace/go.mod golang/testdata/go-sum-hashes/go.mod \
	java/testdata/gradle/gradle.lockfile java/testdata/pom/commons-text-1.10.0/pom.xml \
	java/testdata/pom/example-java-app-maven/pom.xml java/testdata/pom/transitive-top-level/pom.xml \
	javascript/testdata/pkg-lock/package-lock.json javascript/testdata/pnpm-multi-doc/pnpm-lock.yaml \
	javascript/testdata/pnpm-remote/pnpm-lock.yaml javascript/testdata/pnpm-v5-peer-suffix/pnpm-lock.yaml \
	javascript/testdata/pnpm-v6/pnpm-lock.yaml javascript/testdata/pnpm-v9-snapshots/pnpm-lock.yaml \
	javascript/testdata/pnpm-v9/pnpm-lock.yaml javascript/testdata/pnpm/pnpm-lock.yaml \
	javascript/testdata/yarn-berry-dev-deps/yarn.lock javascript/testdata/yarn-berry-dups/yarn.lock \
	javascript/testdata/yarn-berry/yarn.lock javascript/testdata/yarn-dev-deps/yarn.lock \
	javascript/testdata/yarn-dups/yarn.lock javascript/testdata/yarn-remote/yarn.lock \
	javascript/testdata/yarn-v1-deps/yarn.lock javascript/testdata/yarn/yarn.lock \
	php/testdata/composer.lock python/testdata/pdm-lock-extras/pdm.lock \
	python/testdata/pdm-lock-separate-files/pdm.lock python/testdata/pdm-lock/pdm.lock \
	python/testdata/pipfile-lock/Pipfile.lock python/testdata/poetry/case-sensitivity/poetry.lock \
	python/testdata/poetry/conflicting-with-extras/poetry.lock python/testdata/poetry/dev-deps/poetry.lock \
	python/testdata/poetry/multiple-extras/poetry.lock python/testdata/poetry/nested-extras/poetry.lock \
	python/testdata/poetry/simple-deps/poetry.lock python/testdata/pypi-remote/Pipfile.lock \
	python/testdata/pypi-remote/pdm.lock python/testdata/pypi-remote/poetry.lock \
	python/testdata/pypi-remote/requirements.txt python/testdata/requires/requirements.txt \
	ruby/testdata/Gemfile.lock rust/testdata/Cargo.lock rust/testdata/image-audit/Cargo.lock \
	rust/testdata/path-deps/Cargo.lock; do
	d=${f%/*}
	d=${d//\/testdata/}
	put "$Y/$f" "lockfiles/syft/${d//\//-}/${f##*/}"
done
# osv-scalibr's fixtures: FORMAT-DIR CANONICAL-NAME; each file in its own directory.
X=$DATA/lockfiles/osv-scalibr/extractor/filesystem/language
while read -r dir name; do
	for f in "$X/$dir/testdata"/*; do
		[ -f "$f" ] || continue
		b=${f##*/}
		case $b in not-* | empty* | invalid* | null* | *.txt | *.sum) continue ;; esac
		put "$f" "lockfiles/scalibr/${dir##*/}/${b%.*}/$name"
	done
done <<'EOF'
rust/cargolock Cargo.lock
python/poetrylock poetry.lock
python/pipfilelock Pipfile.lock
python/pdmlock pdm.lock
golang/gomod go.mod
php/composerlock composer.lock
ruby/gemfilelock Gemfile.lock
java/pomxml pom.xml
java/gradlelockfile gradle.lockfile
javascript/packagelockjson package-lock.json
javascript/yarnlock yarn.lock
javascript/pnpmlock pnpm-lock.yaml
EOF
put "$X/dotnet/packageslockjson/testdata/valid/packages.lock.json" lockfiles/scalibr/packageslockjson/valid/packages.lock.json
put "$X/java/pomxml/testdata/parent/pom.xml" lockfiles/scalibr/pomxml/parent/pom.xml
for b in comments example extras with_versions per_req_options multiline_and_comments; do
	put "$X/python/requirements/testdata/$b.txt" "lockfiles/scalibr/requirements/requirements-$b.txt"
done
put "$X/python/requirements/testdata/other-requirements.txt" lockfiles/scalibr/requirements/other-requirements.txt
SETS=(osv-scanner trivy lockfiles)
for s in "${SETS[@]}"; do echo "== lockfile set $s: $(find "$L/$s" -type f | wc -l) files"; done

# ---- the findings --------------------------------------------------------
# Seawall reads .seawallignore from the working directory: run from W, which has none.
sw() { (cd "$W" && "$SEAWALL" scan image --dir "$1" --db "$W/seawall-db" --format json -q "${@:2}"); }
OSVFLAGS="--format json --experimental-offline --experimental-local-db-path $W/osvdb --experimental-all-packages --no-call-analysis=all --recursive --no-ignore"
osv() { # DIR [ARGS...]: exit 1 means "vulnerabilities found"
	local rc=0
	# shellcheck disable=SC2086
	"$OSV" $OSVFLAGS "${@:2}" "$1" || rc=$?
	[ $rc -le 1 ] || { echo "osv-scanner failed ($rc) on $1" >&2; return $rc; }
}
args=()
for s in "${SETS[@]}"; do
	sw "$L/$s" -o "$W/$s.seawall.json"
	osv "$L/$s" >"$W/$s.osv.json" 2>"$W/$s.osv.log"
	args+=("$s=$L/$s,$W/$s.seawall.json,$W/$s.osv.json,$W/$s.osv.log")
done

echo "== network: connect() calls to IP addresses under strace (HTTP(S)_PROXY=$HTTPS_PROXY)"
if command -v strace >/dev/null; then
	for t in seawall osv-scanner; do
		if [ $t = seawall ]; then
			strace -f -qq -e trace=connect -o "$W/strace.$t.txt" "$SEAWALL" scan image --dir "$L" --db "$W/seawall-db" --format json -q -o /dev/null
		else
			# shellcheck disable=SC2086
			strace -f -qq -e trace=connect -o "$W/strace.$t.txt" "$OSV" $OSVFLAGS "$L" >/dev/null 2>&1 || true
		fi
		echo "$t: $(grep -c 'AF_INET' "$W/strace.$t.txt" || true) connect() to AF_INET/AF_INET6 ($(grep -c 'connect(' "$W/strace.$t.txt" || true) connect() in all)"
	done | tee "$W/network.txt"
	# The control: without --experimental-offline, osv-scanner queries api.osv.dev,
	# and the counter must see it try (and fail, through the dead proxy).
	strace -f -qq -e trace=connect -o "$W/strace.control.txt" "$OSV" --format json --no-call-analysis=all \
		"$L/trivy/cargo" >/dev/null 2>"$W/strace.control.err" || true
	echo "control (osv-scanner online, same proxy): $(grep -c 'AF_INET' "$W/strace.control.txt" || true) connect() to AF_INET/AF_INET6; it said: $(grep -m1 -o 'proxyconnect.*' "$W/strace.control.err" || echo '?')" | tee -a "$W/network.txt"
else
	echo "strace not installed: only the dead proxy guards against network use" | tee "$W/network.txt"
fi
grep -h -i 'error\|could not\|fail' "$W"/*.osv.log | sort | uniq -c | sed 's/^/osv-scanner log: /' || true

rev="$(git rev-parse --short HEAD 2>/dev/null || echo '?')"
git diff --quiet HEAD -- cmd internal 2>/dev/null || rev="$rev + uncommitted changes"
{
	echo "Seawall built from the working tree ($rev), osv-scanner $("$OSV" --version | head -1 | awk '{print $NF}'), $(date -u +%F)."
	echo
	"$W/osvdiff" -zips "$W/osvdb" "${args[@]}"
} >"$W/accuracy.md"
echo "== findings: $W/accuracy.md"
sed -n '3,/^$/p' "$W/accuracy.md" | tail -2

# ---- the time ------------------------------------------------------------
[ $TIME = 1 ] || exit 0
command -v hyperfine >/dev/null || { echo "hyperfine not installed" >&2; exit 1; }
{
	echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
	echo
	echo "| lockfiles | files | Seawall mean ± σ (median) | osv-scanner mean ± σ (median) | osv-scanner / Seawall (means) | load average before → after |"
	echo "|---|---:|---:|---:|---:|---|"
} >"$W/bench.md"
for s in "${SETS[@]}" all; do
	dir=$L/$s
	[ $s = all ] && dir=$L
	before=$(cut -d' ' -f1-3 /proc/loadavg)
	(cd "$W" && hyperfine --warmup 1 --runs 5 -N --ignore-failure --style basic \
		--export-json "$W/hyperfine-$s.json" \
		-n seawall "$SEAWALL scan image --dir $dir --db $W/seawall-db --format json -q -o /dev/null" \
		-n osv-scanner "$OSV $OSVFLAGS --verbosity error $dir")
	after=$(cut -d' ' -f1-3 /proc/loadavg)
	jq -r --arg s "$s" --arg n "$(find "$dir" -type f | wc -l)" --arg b "$before" --arg a "$after" '
		(.results | map({(.command): .}) | add) as $r
		| def ms: . * 1000 | round;
		  "| \($s) | \($n) | \($r.seawall.mean|ms) ± \($r.seawall.stddev|ms) ms (\($r.seawall.median|ms)) | \($r["osv-scanner"].mean|ms) ± \($r["osv-scanner"].stddev|ms) ms (\($r["osv-scanner"].median|ms)) | \(($r["osv-scanner"].mean/$r.seawall.mean)*10|round/10)× | \($b) → \($a) |"' \
		"$W/hyperfine-$s.json" >>"$W/bench.md"
done
# Peak resident memory: one more run of each on everything, under GNU time.
if [ -x /usr/bin/time ]; then
	rss() { /usr/bin/time -f %M -o "$W/rss.txt" "$@" >/dev/null 2>&1 || true; tail -n1 "$W/rss.txt" | awk '{printf "%.0f MiB", $1/1024}'; }
	# shellcheck disable=SC2086
	echo "peak RSS over all $(find "$L" -type f | wc -l) files: Seawall $(cd "$W" && rss "$SEAWALL" scan image --dir "$L" --db "$W/seawall-db" --format json -q -o /dev/null), osv-scanner $(rss "$OSV" $OSVFLAGS "$L")" >>"$W/bench.md"
fi
echo "== time: $W/bench.md"
cat "$W/bench.md"
