#!/usr/bin/env bash
# bench/waf.sh: Seawall's WAF side by side with ModSecurity.
#
#   bench/waf.sh            # everything: detection, throughput and latency, ReDoS
#   bench/waf.sh detect     # only the attack and benign corpora
#   bench/waf.sh cpu        # only CPU time per request (robust on a shared machine)
#   bench/waf.sh perf       # only wrk throughput and latency
#   bench/waf.sh size       # only latency against body size
#   bench/waf.sh redos      # only the ReDoS inputs
#   bench/waf.sh serve      # start everything and wait, to try requests by hand
#
# Peers, all on loopback in front of the same Go echo backend (127.0.0.1:9000):
#   :8081  apache2 + mod_security2 (ModSecurity v2) + Debian's CRS 3.3.4
#   :8082  nginx + libnginx-mod-http-modsecurity (ModSecurity v3) + the same CRS 3.3.4
#   :8083  seawall waf (Coraza + embedded CRS 4.25)
#   :8084  nginx without a WAF (plain reverse proxy)
#   :9000  the backend itself (no proxy)
# Each WAF runs at paranoia level 1 with anomaly thresholds 5/4, blocking.
# In the corpora, a request counts as stopped when its status is not 200:
# the backend answers 200 to everything, so anything else never reached it.
# Seawall runs with --rate-limit 0: wrk from one address would trip the
# default per-client limit. Results go to bench/out/waf/.
#
# WAF_BENCH_CRS=4 gives both ModSecurity versions the CRS release Seawall
# embeds (from the coraza-coreruleset Go module) instead of Debian's 3.3.4,
# so that all three engines run identical rules; results then go to
# bench/out/waf-crs4/.
#
# Needs root (apache2 and nginx start as root and drop to www-data/nobody),
# and: apt-get install apache2 libapache2-mod-security2 modsecurity-crs nginx
# libnginx-mod-http-modsecurity wrk. The script installs them if missing.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=$ROOT/bench/out/waf
if [ "${WAF_BENCH_CRS:-debian}" = 4 ]; then
	OUT=$ROOT/bench/out/waf-crs4
fi
RUN=$(mktemp -d /tmp/seawall-wafbench.XXXXXX)
chmod 755 "$RUN"
mkdir -p "$OUT"
export PATH="/usr/local/go/bin:$PATH"
WHAT=${1:-all}
DUR=${WAF_BENCH_DURATION:-6s}
ROUNDS=${WAF_BENCH_ROUNDS:-2}
SIZE_REPS=${WAF_BENCH_SIZE_REPS:-9}
PIDS=()

log() { printf '\n== %s\n' "$*" >&2; }

cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	[ -f "$RUN/apache.conf" ] && apache2 -f "$RUN/apache.conf" -k stop 2>/dev/null || true
	[ -f "$RUN/nginx.pid" ] && nginx -c "$RUN/nginx.conf" -p "$RUN" -s stop 2>/dev/null || true
	for _ in $(seq 50); do
		[ -e "$RUN/apache.pid" ] || [ -e "$RUN/nginx.pid" ] || break
		sleep 0.2
	done
	rm -rf "$RUN"
}
trap cleanup EXIT

need=()
for p in apache2 libapache2-mod-security2 modsecurity-crs nginx libnginx-mod-http-modsecurity wrk curl python3; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need+=("$p")
done
if [ "${#need[@]}" -gt 0 ]; then
	log "apt-get install ${need[*]}"
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
	# The packages start their own services on :80; they are not used.
	systemctl stop apache2 nginx 2>/dev/null || service apache2 stop 2>/dev/null || true
fi

log "build seawall and the echo backend"
go build -o "$RUN/seawall" ./cmd/seawall
mkdir -p "$RUN/echo"
cat >"$RUN/echo/main.go" <<'EOF'
// The benchmark backend: reads the whole request body and answers "ok".
package main

import (
	"io"
	"net/http"
	"os"
)

func main() {
	http.ListenAndServe(os.Args[1], http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, "ok\n")
	}))
}
EOF
printf 'module echo\n\ngo 1.22\n' >"$RUN/echo/go.mod"
(cd "$RUN/echo" && GOFLAGS= go build -o "$RUN/echo-backend" .)

# The same two extra rules in every WAF (and in TestReDoSLinear), built to
# backtrack catastrophically in PCRE. They look only at the "redos" and
# "redos2" parameters, so other requests do not touch them.
#   10101 matches "a…a!" only through its second branch, after (a|a)+b has
#         failed in 2^n ways: the request must be refused.
#   10102 ^(\w+\s?)*$ fails on "ab ab … ab!" after trying every split: the
#         request must pass.
REDOS_RULE='SecRule ARGS:redos "@rx ^(?:(a|a)+b|a+!)$" "id:10101,phase:2,deny,status:403,log,msg:'"'"'ReDoS probe: nested alternation'"'"'"'
REDOS_RULE2='SecRule ARGS:redos2 "@rx ^(\w+\s?)*$" "id:10102,phase:2,deny,status:403,log,msg:'"'"'ReDoS probe: nested quantifier'"'"'"'

MODSEC_CRS=3.3.4
if [ "${WAF_BENCH_CRS:-debian}" = 4 ]; then
	MODSEC_CRS=$(cd "$ROOT" && go list -m -f '{{.Version}}' github.com/corazawaf/coraza-coreruleset/v4)
	MODSEC_CRS=${MODSEC_CRS#v}
fi
log "ModSecurity configuration (CRS $MODSEC_CRS, paranoia 1)"
mkdir -p "$RUN/modsec" "$RUN/modsec-data" "$RUN/seawall-rules"
chmod 777 "$RUN/modsec-data"
# Each engine starts from the configuration its Debian package recommends:
# ModSecurity v2's modsecurity.conf-recommended, and for v3 the
# /etc/nginx/modsecurity.conf that libnginx-mod-http-modsecurity ships (v2's
# file makes v3 refuse valid multipart uploads through rule 200004).
modsec_base() {
	sed -e 's/^SecRuleEngine .*/SecRuleEngine On/' \
		-e 's/^SecAuditEngine .*/SecAuditEngine Off/' \
		-e 's/^SecStatusEngine .*/SecStatusEngine Off/' \
		-e "s#^SecUnicodeMapFile .*#SecUnicodeMapFile /etc/modsecurity/unicode.mapping 20127#" \
		-e "s#^SecTmpDir .*#SecTmpDir $RUN/modsec-data#" \
		-e "s#^SecDataDir .*#SecDataDir $RUN/modsec-data#" \
		-e "s#^SecAuditLog .*#SecAuditLog $RUN/modsec-audit.log#" \
		-e '/^SecRequestBodyInMemoryLimit/d' "$1"
}
modsec_base /etc/modsecurity/modsecurity.conf-recommended >"$RUN/modsec/base.conf"
modsec_base /etc/nginx/modsecurity.conf >"$RUN/modsec/base-v3.conf"
if [ "${WAF_BENCH_CRS:-debian}" = 4 ]; then
	# The same CRS release Seawall embeds (unmodified in the
	# coraza-coreruleset module), so that both ModSecurity versions and
	# Seawall run identical rules.
	CRS4=$(cd "$ROOT" && go list -m -f '{{.Dir}}' github.com/corazawaf/coraza-coreruleset/v4)/rules
	mkdir -p "$RUN/crs4/rules"
	cp "$CRS4/@crs-setup.conf.example" "$RUN/crs4/crs-setup.conf"
	cp "$CRS4/@owasp_crs/"* "$RUN/crs4/rules/"
	chmod -R u+w "$RUN/crs4"
	# libmodsecurity 3.0.9 refuses a chained SecRule with no action list
	# (two in CRS 4: 949111, 959101); an explicit "t:none" is the same rule.
	perl -pi -e 's/^(\s*SecRule\s+\S+\s+"(?:[^"\\]|\\.)*")\s*$/$1 "t:none"\n/' "$RUN"/crs4/rules/*.conf
	log "ModSecurity runs the CRS Seawall embeds, from $CRS4"
	cat >"$RUN/modsec/crs.conf" <<EOF
Include $RUN/crs4/crs-setup.conf
SecAction "id:900000,phase:1,nolog,pass,t:none,setvar:tx.blocking_paranoia_level=1"
SecAction "id:900110,phase:1,nolog,pass,t:none,setvar:tx.inbound_anomaly_score_threshold=5,setvar:tx.outbound_anomaly_score_threshold=4"
Include $RUN/crs4/rules/*.conf
$REDOS_RULE
$REDOS_RULE2
EOF
else
	cat >"$RUN/modsec/crs.conf" <<EOF
Include /etc/modsecurity/crs/crs-setup.conf
SecAction "id:900000,phase:1,nolog,pass,t:none,setvar:tx.paranoia_level=1"
SecAction "id:900110,phase:1,nolog,pass,t:none,setvar:tx.inbound_anomaly_score_threshold=5,setvar:tx.outbound_anomaly_score_threshold=4"
Include /usr/share/modsecurity-crs/rules/*.conf
$REDOS_RULE
$REDOS_RULE2
EOF
fi
printf 'Include %s/modsec/base.conf\nInclude %s/modsec/crs.conf\n' "$RUN" "$RUN" >"$RUN/modsec/v2.conf"
printf 'Include %s/modsec/base-v3.conf\nInclude %s/modsec/crs.conf\n' "$RUN" "$RUN" >"$RUN/modsec/v3.conf"
printf '%s\n%s\n' "$REDOS_RULE" "$REDOS_RULE2" >"$RUN/seawall-rules/redos-after-crs.conf"
chmod -R a+rX "$RUN"

M=/usr/lib/apache2/modules
cat >"$RUN/apache.conf" <<EOF
ServerRoot /etc/apache2
ServerName localhost
PidFile $RUN/apache.pid
Listen 127.0.0.1:8081
User www-data
Group www-data
ErrorLog $RUN/apache-error.log
LogLevel warn
LoadModule mpm_event_module $M/mod_mpm_event.so
LoadModule authz_core_module $M/mod_authz_core.so
LoadModule unique_id_module $M/mod_unique_id.so
LoadModule proxy_module $M/mod_proxy.so
LoadModule proxy_http_module $M/mod_proxy_http.so
LoadModule security2_module $M/mod_security2.so
StartServers 2
ServerLimit 4
ThreadsPerChild 64
MaxRequestWorkers 256
KeepAlive On
MaxKeepAliveRequests 0
LimitRequestBody 0
Include $RUN/modsec/v2.conf
ProxyPass / http://127.0.0.1:9000/ keepalive=On
ProxyPassReverse / http://127.0.0.1:9000/
EOF

cat >"$RUN/nginx.conf" <<EOF
worker_processes auto;
pid $RUN/nginx.pid;
error_log $RUN/nginx-error.log warn;
load_module /usr/lib/nginx/modules/ngx_http_modsecurity_module.so;
events { worker_connections 4096; }
http {
  access_log off;
  client_max_body_size 20m;
  client_body_temp_path $RUN/nginx-body;
  proxy_temp_path $RUN/nginx-proxy;
  upstream be { server 127.0.0.1:9000; keepalive 64; }
  server {
    listen 127.0.0.1:8082;
    modsecurity on;
    modsecurity_rules_file $RUN/modsec/v3.conf;
    location / { proxy_pass http://be; proxy_http_version 1.1; proxy_set_header Connection ""; }
  }
  server {
    listen 127.0.0.1:8084;
    location / { proxy_pass http://be; proxy_http_version 1.1; proxy_set_header Connection ""; }
  }
}
EOF

log "start the backend and the four proxies"
"$RUN/echo-backend" 127.0.0.1:9000 & PIDS+=($!)
apache2 -f "$RUN/apache.conf" -k start
nginx -c "$RUN/nginx.conf" -p "$RUN" 
"$RUN/seawall" waf --listen 127.0.0.1:8083 --upstream http://127.0.0.1:9000 --paranoia 1 \
	--anomaly-inbound 5 --anomaly-outbound 4 --rate-limit 0 --rules "$RUN/seawall-rules" \
	--log "$RUN/seawall-events.jsonl" -q & PIDS+=($!)
SEAWALL_PID=$!
for port in 9000 8081 8082 8083 8084; do
	for _ in $(seq 100); do
		curl -s -o /dev/null "http://127.0.0.1:$port/" && break
		sleep 0.1
	done
done

TARGETS=("seawall:8083" "modsec3-nginx:8082" "modsec2-apache:8081" "nginx-no-waf:8084" "backend:9000")
WAFS=("seawall:8083" "modsec3-nginx:8082" "modsec2-apache:8081")

# ---------------------------------------------------------------- detection
detect() {
	log "detection: attack and benign corpora"
	python3 - "$OUT/detection.md" "$ROOT/bench/waf-corpus" "$MODSEC_CRS" <<'PY'
import http.client, json, sys

corpus = sys.argv[2]
modsec_crs = sys.argv[3]
def load(name):
    with open(f"{corpus}/{name}", encoding="utf-8") as f:
        return [json.loads(l) for l in f if l.strip() and not l.startswith("#")]
attacks = [(d["category"], d["method"], d["target"], d["content_type"] or None, d["body"] or None) for d in load("attacks.jsonl")]
benign = [(d["method"], d["target"], d["content_type"] or None, d["body"] or None) for d in load("benign.jsonl")]

def send(port, method, path, ctype, body):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    h = {"Host": "shop.example.com", "User-Agent": "Mozilla/5.0 (X11; Linux x86_64) bench", "Accept": "text/html,application/json;q=0.9,*/*;q=0.8"}
    if ctype:
        h["Content-Type"] = ctype
    c.request(method, path, body=body.encode("utf-8") if body else None, headers=h)
    r = c.getresponse(); r.read(); c.close()
    return r.status

targets = [("Seawall (CRS 4.25)", 8083), (f"nginx + ModSecurity 3 (CRS {modsec_crs})", 8082), (f"Apache + ModSecurity 2 (CRS {modsec_crs})", 8081)]
cats = ["sqli", "xss", "traversal", "rce", "admin", "ssrf"]
res = {}
misses = {}
for name, port in targets:
    per = {c: [0, 0] for c in cats}
    for cat, m, p, ct, b in attacks:
        st = send(port, m, p, ct, b)
        per[cat][1] += 1
        if st != 200:  # the backend answers 200 to everything: anything else never reached it
            per[cat][0] += 1
        else:
            misses.setdefault(name, []).append(f"{cat}: {m} {p[:90]} -> {st}")
    fp = []
    for m, p, ct, b in benign:
        st = send(port, m, p, ct, b)
        if st != 200:
            fp.append(f"{m} {p[:90]} -> {st}")
    res[name] = (per, fp)

out = ["| | " + " | ".join(n for n, _ in targets) + " |", "|---|" + "---|" * len(targets)]
for c in cats:
    row = [c]
    for n, _ in targets:
        d, t = res[n][0][c]
        row.append(f"{d}/{t}")
    out.append("| " + " | ".join(row) + " |")
tot = lambda n: (sum(v[0] for v in res[n][0].values()), sum(v[1] for v in res[n][0].values()))
out.append("| **attacks stopped** | " + " | ".join(f"**{tot(n)[0]}/{tot(n)[1]}**" for n, _ in targets) + " |")
out.append("| **benign refused (false positives)** | " + " | ".join(f"**{len(res[n][1])}/{len(benign)}**" for n, _ in targets) + " |")
out.append("")
for n, _ in targets:
    out.append(f"Missed by {n}: " + ("; ".join(misses.get(n, [])) or "none"))
    out.append("")
    out.append(f"False positives of {n}: " + ("; ".join(res[n][1]) or "none"))
    out.append("")
open(sys.argv[1], "w").write("\n".join(out) + "\n")
print("\n".join(out))
PY
}

# ---------------------------------------------------------------- wrk
mkbodies() {
	python3 - "$RUN" <<'PY'
import json, os, random, sys
run = sys.argv[1]
random.seed(7)
words = "apple banana cherry grape lemon mango orange peach pear plum kiwi melon berry olive walnut pepper".split()
# A typical 10 KB API document: about 100 fields, most of them text.
doc = {"order": "A-1001", "customer": {"name": "Alice Example", "email": "alice@example.com"}, "items": []}
while len(json.dumps(doc)) < 10 * 1024:
    doc["items"].append({"sku": "SKU-%04d" % len(doc["items"]), "qty": random.randint(1, 5),
                         "description": " ".join(random.choices(words, k=30))})
open(f"{run}/post10k.json", "w").write(json.dumps(doc))
# The same size as 1,000 short fields: the cost of a CRS engine grows with
# the number of fields, since every rule runs over every field.
items = []
while len(json.dumps({"items": items})) < 10 * 1024:
    items.append({"id": len(items), "name": " ".join(random.choices(words, k=2)), "price": round(random.random() * 100, 2)})
open(f"{run}/post10kfields.json", "w").write(json.dumps({"items": items}))
def multipart(size):
    b = "----seawallbench"
    line = "The quick brown fox jumps over the lazy dog 0123456789\n"
    data = (line * (size // len(line) + 1))[:size]
    return b, f"--{b}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"data.txt\"\r\nContent-Type: text/plain\r\n\r\n{data}\r\n--{b}--\r\n"
for name, size in [("16k", 16 << 10), ("64k", 64 << 10), ("256k", 256 << 10), ("1m", 1 << 20), ("4m", 4 << 20)]:
    b, body = multipart(size)
    open(f"{run}/upload{name}.body", "w").write(body)
open(f"{run}/boundary", "w").write(b)
PY
	# The headers every request sends, as in the cpu and detect corpora.
	cat >"$RUN/get.lua" <<EOF
wrk.headers["Host"] = "shop.example.com"
wrk.headers["User-Agent"] = "Mozilla/5.0 bench"
wrk.headers["Accept"] = "*/*"
EOF
	wrkpost post10k "$RUN/post10k.json" application/json
	wrkpost post10kfields "$RUN/post10kfields.json" application/json
	wrkpost upload1m "$RUN/upload1m.body" "multipart/form-data; boundary=----seawallbench"
}

# wrkpost NAME BODYFILE CONTENT-TYPE: a wrk script POSTing BODYFILE.
wrkpost() {
	cat - "$RUN/get.lua" >"$RUN/$1.lua" <<EOF
local f = io.open("$2"); wrk.body = f:read("*a"); f:close()
wrk.method = "POST"
wrk.headers["Content-Type"] = "$3"
EOF
}

# wrkrun NAME PORT SCRIPT PATH CONNS ROUND -> "rps p50 p99 non2xx"
wrkrun() {
	local out
	out=$(wrk -t2 -c"$5" -d"$DUR" --timeout 10s --latency -s "$3" "http://127.0.0.1:$2$4" 2>&1)
	echo "$out" >"$OUT/wrk-$1-$(basename "$3" .lua)-$6.txt"
	local rps p50 p99 bad
	rps=$(echo "$out" | awk '/^Requests\/sec/ {print $2}')
	p50=$(echo "$out" | awk '$1=="50%" {print $2}')
	p99=$(echo "$out" | awk '$1=="99%" {print $2}')
	bad=$(echo "$out" | awk '/Non-2xx/ {print $5}')
	echo "${rps:-0} ${p50:-?} ${p99:-?} ${bad:-0}"
}

# The machine may be shared, so the targets take turns: ROUNDS rounds of
# every target in turn for each workload, and the median round counts.
perf() {
	log "throughput and latency with wrk ($DUR per run, $ROUNDS rounds, 2 threads)"
	mkbodies
	: >"$RUN/perf.raw"
	# Concurrency is 32 for small GETs and 4 for bodies: a WAF spends tens of
	# milliseconds of CPU on a 10 KB JSON body, so on 2 cores 32 connections
	# would only queue (and keep the target busy into the next run).
	for w in "get:/products?id=42&sort=price:32" "post10k:/api/orders:4" "post10kfields:/api/items:4" "upload1m:/upload:4"; do
		s=${w%%:*}; rest=${w#*:}; path=${rest%:*}; conns=${rest##*:}
		for r in $(seq "$ROUNDS"); do
			for t in "${TARGETS[@]}"; do
				name=${t%%:*}; port=${t##*:}
				line="$name $s $(wrkrun "$name" "$port" "$RUN/$s.lua" "$path" "$conns" "$r") $(cut -d' ' -f1 /proc/loadavg)"
				sleep 2 # requests the target was still working on when wrk stopped finish now, not in the next run
				echo "$line" >>"$RUN/perf.raw"
				echo "$line" >&2
			done
		done
	done
	cp "$RUN/perf.raw" "$OUT/perf-raw.txt"
	python3 - "$RUN/perf.raw" >"$OUT/throughput.md" <<'PY'
import collections, statistics, sys
rows = collections.defaultdict(list)
order = []
for line in open(sys.argv[1]):
    name, work, rps, p50, p99, bad, load = line.split()
    if (name, work) not in rows:
        order.append((name, work))
    rows[(name, work)].append((float(rps), p50, p99, bad, float(load)))
def ms(v):
    if v == "?": return float("nan")
    for suf, f in (("us", 1e-3), ("ms", 1.0), ("s", 1e3)):
        if v.endswith(suf): return float(v[:-len(suf)]) * f
    return float(v)
med = {}
for k, v in rows.items():
    v = sorted(v, key=lambda x: x[0])
    m = v[len(v) // 2]
    med[k] = (m[0], ms(m[1]), ms(m[2]), m[3], statistics.mean(x[4] for x in v))
print("| workload | target | requests/s | p50 | p99 | non-2xx | vs no WAF (nginx) | vs nginx + ModSecurity 3 | vs Apache + ModSecurity 2 | load avg |")
print("|---|---|---|---|---|---|---|---|---|---|")
for name, work in order:
    r, p50, p99, bad, load = med[(name, work)]
    def ratio(other):
        o = med.get((other, work))
        return f"{r / o[0]:.2f}×" if o and o[0] > 0 else "–"
    print(f"| {work} | {name} | {r:.0f} | {p50:.1f} ms | {p99:.1f} ms | {bad} | {ratio('nginx-no-waf')} | {ratio('modsec3-nginx')} | {ratio('modsec2-apache')} | {load:.1f} |")
PY
	cat "$OUT/throughput.md"
}

# ---------------------------------------------------------------- CPU
# CPU time each proxy spends per request, read from /proc for all of its
# processes around N sequential keep-alive requests. Unlike requests per
# second, this hardly moves when other work shares the machine.
cpu() {
	log "CPU per request (sequential keep-alive requests, /proc CPU time of each proxy)"
	mkbodies
	python3 - "$RUN" "$OUT/cpu.md" "$(cat "$RUN/apache.pid")" "$(cat "$RUN/nginx.pid")" "$SEAWALL_PID" <<'PY'
import http.client, os, sys, time
run, out, apache, nginx, seawall = sys.argv[1:6]
tck = os.sysconf("SC_CLK_TCK")
def tree(root):
    pids, todo = [], [int(root)]
    while todo:
        p = todo.pop()
        pids.append(p)
        try:
            for t in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{t}/children") as f:
                    todo += [int(c) for c in f.read().split()]
        except OSError:
            pass
    return pids
def cputime(root):
    total = 0
    for p in tree(root):
        try:
            f = open(f"/proc/{p}/stat").read().rsplit(")", 1)[1].split()
            total += int(f[11]) + int(f[12])  # utime, stime
        except OSError:
            pass
    return total / tck
hdr = {"Host": "shop.example.com", "User-Agent": "Mozilla/5.0 bench", "Accept": "*/*"}
bound = open(f"{run}/boundary").read()
work = [
    ("small GET", "GET", "/products?id=42&sort=price", None, None, 400),
    ("10 KB JSON POST", "POST", "/api/orders", "application/json", open(f"{run}/post10k.json", "rb").read(), 60),
    ("10 KB JSON, 1,000 fields", "POST", "/api/items", "application/json", open(f"{run}/post10kfields.json", "rb").read(), 30),
    ("1 MB upload", "POST", "/upload", "multipart/form-data; boundary=" + bound, open(f"{run}/upload1m.body", "rb").read(), 30),
]
targets = [("Seawall", 8083, seawall), ("nginx + ModSecurity 3", 8082, nginx), ("Apache + ModSecurity 2", 8081, apache), ("nginx, no WAF", 8084, nginx)]
rows = {}
for wname, m, path, ct, body, n in work:
    for tname, port, root in targets:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        h = dict(hdr)
        if ct:
            h["Content-Type"] = ct
        def once():
            c.request(m, path, body=body, headers=h)
            r = c.getresponse(); r.read()
            return r.status
        once()  # warm up and open the connection
        time.sleep(0.3)
        before, bad = cputime(root), 0
        for _ in range(n):
            if once() != 200:
                bad += 1
        time.sleep(0.3)
        rows[(wname, tname)] = ((cputime(root) - before) / n * 1000, bad)
        c.close()
        print(f"{wname:28} {tname:24} {rows[(wname, tname)][0]:8.2f} ms CPU/request  non-200: {bad}", file=sys.stderr)
lines = ["| workload | " + " | ".join(t for t, _, _ in targets) + " | Seawall vs ModSecurity 3 | Seawall vs ModSecurity 2 |",
         "|---|" + "---|" * (len(targets) + 2)]
for wname, *_ in work:
    cells = []
    for tname, _, _ in targets:
        v, bad = rows[(wname, tname)]
        cells.append(f"{v:.2f} ms" + (f" ({bad} refused)" if bad else ""))
    sw, m3, m2 = rows[(wname, "Seawall")][0], rows[(wname, "nginx + ModSecurity 3")][0], rows[(wname, "Apache + ModSecurity 2")][0]
    r = lambda o: f"{o / sw:.2f}× less CPU" if sw and o >= sw else (f"{sw / o:.2f}× more CPU" if o else "–")
    lines.append(f"| {wname} | " + " | ".join(cells) + f" | {r(m3)} | {r(m2)} |")
open(out, "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
PY
}

# ---------------------------------------------------------------- body size
size() {
	log "latency against body size (median of $SIZE_REPS sequential uploads)"
	mkbodies
	{
		echo "| target | 16 KiB | 64 KiB | 256 KiB | 1 MiB | 4 MiB |"
		echo "|---|---|---|---|---|---|"
		for t in "${TARGETS[@]}"; do
			name=${t%%:*}; port=${t##*:}
			row="| $name |"
			for s in 16k 64k 256k 1m 4m; do
				times=()
				for _ in $(seq "$SIZE_REPS"); do
					times+=("$(curl -s -o /dev/null -w '%{time_total} %{http_code}' -H 'Expect:' -H 'Host: shop.example.com' -H 'Content-Type: multipart/form-data; boundary=----seawallbench' \
						-H 'User-Agent: Mozilla/5.0 bench' -H 'Accept: */*' --data-binary "@$RUN/upload$s.body" "http://127.0.0.1:$port/upload")")
				done
				med=$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1; c[NR]=$2} END {printf "%.1f ms", a[int((NR+1)/2)]*1000; if (c[int((NR+1)/2)]!="200") printf " (%s)", c[int((NR+1)/2)]}')
				row="$row $med |"
			done
			echo "$row"
		done
	} >"$OUT/bodysize.md"
	cat "$OUT/bodysize.md"
}

# ---------------------------------------------------------------- ReDoS
# redos1 NAME PORT PARAM VALUE WANT -> one table row. ModSecurity gives up
# on an expression once it passes its PCRE match limit (SecPcreMatchLimit)
# and treats the rule as not matched; such rows are marked.
redos1() {
	local name=$1 port=$2 param=$3 v=$4 want=$5 r errs before after verdict
	before=$(cat "$RUN/apache-error.log" "$RUN/nginx-error.log" 2>/dev/null | grep -c "PCRE limits\|Regex execution failed\|MATCH_LIMIT\|match limit" || true)
	printf '%s=%s' "$param" "$v" >"$RUN/redos.body"
	r=$(curl -s -o /dev/null --max-time 120 -w '%{time_total} %{http_code}' -H 'Expect:' -H 'Host: shop.example.com' -H 'User-Agent: Mozilla/5.0 bench' -H 'Accept: */*' \
		-H 'Content-Type: application/x-www-form-urlencoded' --data-binary "@$RUN/redos.body" "http://127.0.0.1:$port/r" || echo "120 timeout")
	sleep 0.2
	after=$(cat "$RUN/apache-error.log" "$RUN/nginx-error.log" 2>/dev/null | grep -c "PCRE limits\|Regex execution failed\|MATCH_LIMIT\|match limit" || true)
	verdict="as expected"
	[ "${r##* }" = "$want" ] || verdict="**wrong: want $want**"
	[ "$after" -gt "$before" ] && verdict="$verdict; regex gave up (PCRE match limit)"
	echo "| $name | $param | ${#v} | $(awk '{printf "%.1f ms", $1*1000}' <<<"$r") | ${r##* } | $verdict |"
}
redos() {
	log "ReDoS: rules 10101 and 10102 against growing hostile inputs"
	{
		echo "| target | rule | input length | time | status | verdict |"
		echo "|---|---|---|---|---|---|"
		for t in "${WAFS[@]}"; do
			name=${t%%:*}; port=${t##*:}
			for n in 12 20 24 28 32 1000 10000 100000; do
				redos1 "$name" "$port" redos "$(python3 -c "print('a'*$n + '!', end='')")" 403
			done
			for n in 12 21 30 60 999 9999 99999; do
				redos1 "$name" "$port" redos2 "$(python3 -c "print('ab+'*($n//3) + '!', end='')")" 200
			done
		done
	} >"$OUT/redos.md"
	cat "$OUT/redos.md"
	grep -h "PCRE limits\|Regex execution failed\|MATCH_LIMIT\|match limit" "$RUN/apache-error.log" "$RUN/nginx-error.log" 2>/dev/null | tail -5 >"$OUT/redos-modsec-errors.txt" || true
}

case $WHAT in
all) detect; cpu; perf; size; redos ;;
cpu) cpu ;;
serve) log "serving until interrupted (run dir $RUN)"; sleep infinity ;;
detect) detect ;;
perf) perf ;;
size) size ;;
redos) redos ;;
*) echo "usage: $0 [all|detect|cpu|perf|size|redos|serve]" >&2; exit 2 ;;
esac
{
	echo "seawall: $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo dev), $(go version)"
	echo "apache2: $(apache2 -v | head -1)"
	echo "mod_security2: $(dpkg-query -W -f='${Version}' libapache2-mod-security2)"
	echo "nginx: $(nginx -v 2>&1)"
	echo "libmodsecurity3: $(dpkg-query -W -f='${Version}' libmodsecurity3)"
	if [ "${WAF_BENCH_CRS:-debian}" = 4 ]; then
		echo "CRS for ModSecurity: the coraza-coreruleset module's (same as Seawall's)"
	else
		echo "modsecurity-crs: $(dpkg-query -W -f='${Version}' modsecurity-crs)"
	fi
	echo "wrk: $(dpkg-query -W -f='${Version}' wrk)"
	echo "machine: $(nproc) cores, $(free -g | awk '/Mem/ {print $2}') GiB"
} >"$OUT/versions.txt"
log "results in $OUT"
