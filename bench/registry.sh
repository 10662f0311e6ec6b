#!/usr/bin/env bash
# bench/registry.sh: `seawall serve` side by side with Debian's docker-registry
# (distribution 2.8.2) on loopback, in the same run.
#
#   bench/registry.sh                      # 1 GiB image, 16 layers, concurrency 1 and 16, 3 rounds
#   REGBENCH_SIZE=256MiB REGBENCH_REPS=1 bench/registry.sh   # a quick look
#
# What runs:
#   distribution  /usr/bin/docker-registry, filesystem storage in a fresh
#                 temporary directory, plain HTTP on 127.0.0.1, no auth
#                 configured (it has none unless you set up htpasswd or a
#                 token server), in-memory blob descriptor cache (Debian's
#                 default config), log level info.
#   seawall       the `seawall serve` binary built from this tree, fresh
#                 --data, auth on as a user runs it: a project "bench", a
#                 robot with pull,push, and every request carrying a registry
#                 token (ES256 JWT) from the Docker token flow
#                 (/service/token with the robot's Basic credentials).
#                 Default log level (info: one line per request).
#   seawall-anonymous  the same server, pulling anonymously: the project is
#                 public, so pulls get an anonymous token (pushes always
#                 need credentials, so this target only pulls).
#
# bench/regload (Go) builds a deterministic image once per round and
# concurrency level (3 of 4 layers incompressible ChaCha8 output, the 4th
# compressible text) and pushes it as docker does (POST, one streamed
# chunked PATCH, PUT ?digest=), then the config and the manifest.
# "Concurrency N" means N blobs of the image in flight at once, in the push
# (as docker push does with parallel uploads) and in the pull. Then wrk
# fetches one manifest over REGBENCH_WRK_CONNS connections. Targets
# alternate order every round; every figure is the median of the rounds.
# Results: bench/out/registry/ (table.md, results.json, server logs).
#
# Needs: apt-get install docker-registry wrk (installed if missing), Go.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=$ROOT/bench/out/registry
RUN=$(mktemp -d /tmp/seawall-regbench.XXXXXX)
mkdir -p "$OUT"
export PATH="/usr/local/go/bin:$PATH"
SIZE=${REGBENCH_SIZE:-1GiB}
LAYERS=${REGBENCH_LAYERS:-16}
REPS=${REGBENCH_REPS:-3}
CONC=${REGBENCH_CONCURRENCY:-1,16}
WRK_CONNS=${REGBENCH_WRK_CONNS:-32}
WRK_DUR=${REGBENCH_WRK_DURATION:-10s}
DIST_PORT=${REGBENCH_DIST_PORT:-5101}
SW_PORT=${REGBENCH_SEAWALL_PORT:-5102}
PIDS=()

log() { printf '\n== %s\n' "$*" >&2; }

cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
	rm -rf "$RUN"
}
trap cleanup EXIT

need=()
command -v docker-registry >/dev/null || need+=(docker-registry)
command -v wrk >/dev/null || need+=(wrk)
if [ ${#need[@]} -gt 0 ]; then
	log "installing ${need[*]}"
	apt-get install -y "${need[@]}" >/dev/null
fi

wait_http() { # URL: wait until it answers at all (any status)
	for _ in $(seq 1 100); do
		curl -s -o /dev/null "$1" && return 0
		sleep 0.1
	done
	echo "no answer from $1" >&2
	return 1
}

log "building seawall and regload"
go build -o "$RUN/seawall" ./cmd/seawall
go build -o "$RUN/regload" ./bench/regload

log "starting distribution $(docker-registry --version 2>/dev/null | awk '{print $3}') on 127.0.0.1:$DIST_PORT"
mkdir -p "$RUN/dist-data"
cat >"$RUN/dist.yml" <<EOF
version: 0.1
log:
  level: info
storage:
  cache:
    blobdescriptor: inmemory
  filesystem:
    rootdirectory: $RUN/dist-data
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$DIST_PORT
EOF
docker-registry serve "$RUN/dist.yml" >"$OUT/distribution.log" 2>&1 &
PIDS+=($!)
wait_http "http://127.0.0.1:$DIST_PORT/v2/"

log "starting seawall serve on 127.0.0.1:$SW_PORT"
ADMIN_PW=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
SEAWALL_ADMIN_PASSWORD=$ADMIN_PW "$RUN/seawall" serve --addr "127.0.0.1:$SW_PORT" --data "$RUN/seawall-data" \
	>"$OUT/seawall.log" 2>&1 &
PIDS+=($!)
wait_http "http://127.0.0.1:$SW_PORT/healthz"

export XDG_CONFIG_HOME=$RUN/xdg
SW="http://127.0.0.1:$SW_PORT"
echo "$ADMIN_PW" | "$RUN/seawall" login "$SW" --username admin --password-stdin >/dev/null
"$RUN/seawall" project create bench --public >/dev/null
ROBOT_JSON=$("$RUN/seawall" robot create bench ci --permissions pull,push --expires 1d --format json)
ROBOT_NAME=$(printf '%s' "$ROBOT_JSON" | sed -n 's/.*"name": *"\([^"]*\)".*/\1/p')
ROBOT_SECRET=$(printf '%s' "$ROBOT_JSON" | sed -n 's/.*"secret": *"\([^"]*\)".*/\1/p')
[ -n "$ROBOT_NAME" ] && [ -n "$ROBOT_SECRET" ] || { echo "robot create gave: $ROBOT_JSON" >&2; exit 1; }

log "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
START=$(date -u '+%Y-%m-%d %H:%M UTC')
"$RUN/regload" \
	-target "distribution=http://127.0.0.1:$DIST_PORT" \
	-target "seawall=$SW,user=$ROBOT_NAME,pass=$ROBOT_SECRET" \
	-target "seawall-anonymous=$SW,pull-of=seawall" \
	-size "$SIZE" -layers "$LAYERS" -reps "$REPS" -concurrency "$CONC" \
	-wrk-connections "$WRK_CONNS" -wrk-duration "$WRK_DUR" \
	-json "$OUT/results.json" | tee "$OUT/table.md"
{
	echo
	echo "Run of $START, load average after: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) cores)."
} | tee -a "$OUT/table.md"
