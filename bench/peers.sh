#!/usr/bin/env bash
# bench/peers.sh: build the Go peer tools that the bench scripts compare Seawall with.
#
# Usage:
#   bench/peers.sh               # build every tool (syft crane cosign oras osv-scanner gitleaks trivy)
#   bench/peers.sh syft trivy    # build only the named tools
#
# Binaries go to ${SEAWALL_PEERS:-$HOME/.cache/seawall-peers}/bin/<tool>. Next to each
# one, <tool>.version holds the version it was built at. Reruns skip a tool whose
# binary and stamp already match the pinned version, so the script is idempotent.
#
# Many of these modules won't work with `go install pkg@ver` (the proxy won't list
# their versions), so each tool gets a throwaway module at $CACHE/src/<tool>. It
# requires the tool's module at the exact version, and `go build` builds the main
# package from there. Builds first try the local Go toolchain. If the module needs a
# newer Go, that one build is retried with GOTOOLCHAIN=$NEW_TOOLCHAIN.
#
# The -X flags set the version strings that the release builds would set, so that
# `<tool> version` reports the real version. trivy takes about 8 minutes to build
# and needs GOEXPERIMENT=jsonv2. These peers are for bench/ only: keep them out of CI.
set -euo pipefail

CACHE=${SEAWALL_PEERS:-$HOME/.cache/seawall-peers}
BIN=$CACHE/bin
NEW_TOOLCHAIN=go1.27.3
ALL=(syft crane cosign oras osv-scanner gitleaks trivy)   # trivy last: it is by far the slowest

# spec TOOL: sets mod, ver, pkg, ldx (extra -X flags), tags (build tags) and
# envs (extra build env).
spec() {
  envs=() tags=""
  case $1 in
    syft)   mod=github.com/anchore/syft ver=v1.57.1 pkg=$mod/cmd/syft
            ldx="-X main.version=${ver#v}" ;;
    crane)  mod=github.com/google/go-containerregistry ver=v0.22.1 pkg=$mod/cmd/crane
            ldx="-X $mod/cmd/crane/cmd.Version=$ver -X $mod/pkg/v1/remote/transport.Version=$ver" ;;
    cosign) mod=github.com/sigstore/cosign/v2 ver=v2.6.5 pkg=$mod/cmd/cosign
            ldx="-X sigs.k8s.io/release-utils/version.gitVersion=$ver -X sigs.k8s.io/release-utils/version.gitTreeState=clean" ;;
    oras)   mod=oras.land/oras ver=v1.3.6 pkg=$mod/cmd/oras
            ldx="-X $mod/internal/version.GitTreeState=clean" ;;   # Version is hard-coded upstream
    # osv-scanner's version is a constant in internal/version; main.commit and
    # main.date are what goreleaser stamps.
    osv-scanner) mod=github.com/google/osv-scanner ver=v1.9.2 pkg=$mod/cmd/osv-scanner
            ldx="-X main.commit=$ver -X main.date=n/a" ;;
    # goreleaser stamps gitleaks' version into version.Version, and its
    # releases are built with the gore2regex tag (RE2 through WebAssembly
    # instead of Go's regexp), which makes them several times faster.
    gitleaks) mod=github.com/zricethezav/gitleaks/v8 ver=v8.30.1 pkg=$mod tags=gore2regex
            ldx="-X $mod/version.Version=$ver" ;;
    trivy)  mod=github.com/aquasecurity/trivy ver=v0.74.0 pkg=$mod/cmd/trivy
            ldx="-X $mod/pkg/version/app.ver=${ver#v}" envs=(GOEXPERIMENT=jsonv2) ;;
    *) echo "peers.sh: unknown tool '$1' (known: ${ALL[*]})" >&2; return 1 ;;
  esac
}

# gobuild TOOLCHAIN: resolve and build the tool in the current module dir.
gobuild() {
  env GOTOOLCHAIN="$1" CGO_ENABLED=0 "${envs[@]}" go get "$pkg@$ver" &&
  env GOTOOLCHAIN="$1" CGO_ENABLED=0 "${envs[@]}" \
    go build -trimpath -tags "$tags" -ldflags "-s -w $ldx" -o "$BIN/.$tool.tmp" "$pkg"
}

build() {
  local tool=$1 src=$CACHE/src/$1 start=$SECONDS
  spec "$tool"
  local stamp=$ver${tags:+ +$tags}
  if [[ -x $BIN/$tool && "$(cat "$BIN/$tool.version" 2>/dev/null)" == "$stamp" ]]; then
    echo "== $tool $ver: already built, skipping"; return
  fi
  echo "== $tool $ver: building $pkg"
  rm -rf "$src" && mkdir -p "$src" "$BIN"
  (
    cd "$src"
    go mod init "peers-$tool" >/dev/null 2>&1
    gobuild local || { echo "-- retrying $tool with GOTOOLCHAIN=$NEW_TOOLCHAIN"; gobuild "$NEW_TOOLCHAIN"; }
  )
  mv -f "$BIN/.$tool.tmp" "$BIN/$tool"
  echo "$stamp" >"$BIN/$tool.version"
  echo "== $tool $ver: built $BIN/$tool in $((SECONDS - start))s"
}

tools=("$@")
[[ ${#tools[@]} -gt 0 ]] || tools=("${ALL[@]}")
for t in "${tools[@]}"; do spec "$t"; done   # reject unknown names before building anything
for t in "${tools[@]}"; do build "$t"; done
