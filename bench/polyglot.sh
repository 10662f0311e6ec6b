#!/usr/bin/env bash
# bench/polyglot.sh: build a realistic multi-ecosystem test image from the
# software installed on this machine, on top of the Debian bookworm minbase
# root filesystem from ../shared/data:
#
#   layer 1  debian-bookworm-minbase.rootfs.tar.gz
#   layer 2  Java jars (/usr/share/java), npm and its bundled node_modules,
#            Python distributions (dist-info/egg-info of the pyenv Python),
#            Ruby gem specifications, and Go binaries built by bench/peers.sh
#
# Output: bench/out/images/polyglot.oci (gzip layers) and
# polyglot.docker.tar (uncompressed). The content depends on this machine:
# the accuracy page records what it held when it was measured.
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${SEAWALL_SHARED_DATA:-../shared/data}
PEERS=${SEAWALL_PEERS:-$HOME/.cache/seawall-peers}/bin
OUT=bench/out
export PATH="/usr/local/go/bin:$PATH"
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT

mkdir -p "$stage/usr/share" "$stage/usr/lib/node_modules" "$stage/usr/local/lib/python3.11/site-packages" \
	"$stage/var/lib/gems/3.1.0/specifications" "$stage/usr/local/bin"
cp -a /usr/share/java "$stage/usr/share/"
cp -a /usr/lib/node_modules/npm "$stage/usr/lib/node_modules/"
site=$(python3 -c 'import site; print(site.getsitepackages()[0])')
for d in "$site"/*.dist-info "$site"/*.egg-info; do
	[ -e "$d" ] && cp -a "$d" "$stage/usr/local/lib/python3.11/site-packages/"
done
for s in /usr/share/rubygems-integration/all/specifications /usr/lib/ruby/gems/*/specifications /var/lib/gems/*/specifications; do
	[ -d "$s" ] && cp -a "$s"/*.gemspec "$stage/var/lib/gems/3.1.0/specifications/" 2>/dev/null || true
done
for t in crane oras cosign; do
	[ -x "$PEERS/$t" ] && cp "$PEERS/$t" "$stage/usr/local/bin/"
done
tar --numeric-owner -C "$stage" -czf "$OUT/polyglot-layer.tar.gz" .
go run ./bench/mkimage -out "$OUT/images" -name polyglot "$DATA/images/debian-bookworm-minbase.rootfs.tar.gz" "$OUT/polyglot-layer.tar.gz"
