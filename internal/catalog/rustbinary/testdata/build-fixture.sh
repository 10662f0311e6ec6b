#!/bin/sh
# Rebuilds hello-auditable from hello-auditable.rs and dep-v0.json.
# Needs rustc (x86_64-unknown-linux-gnu) and python3; no network.
set -eu
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp hello-auditable.rs "$tmp/main.rs"
# cargo-auditable stores the JSON compact and zlib-compressed.
python3 -c 'import json, sys, zlib
d = json.load(open(sys.argv[1]))
sys.stdout.buffer.write(zlib.compress(json.dumps(d, separators=(",", ":")).encode(), 9))' dep-v0.json >"$tmp/dep-v0.zlib"
# --undefined keeps the linker from dropping the unreferenced section,
# which is what cargo-auditable passes too.
rustc --edition 2021 -C opt-level=s -C panic=abort -C codegen-units=1 -C strip=symbols \
	-C link-arg=-Wl,--undefined=AUDITABLE_VERSION_INFO \
	-o hello-auditable "$tmp/main.rs"
