package waf_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/seawall-dev/seawall/internal/waf"
)

func TestRequestIDAndForwardedHeaders(t *testing.T) {
	var got http.Header
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Clone()
		io.WriteString(w, "ok")
	}))
	defer backend.Close()

	tests := []struct {
		name       string
		trusted    []string
		sendXFF    string
		sendID     string
		wantXFF    string
		keepSentID bool
	}{
		{name: "untrusted peer: client headers are replaced", sendXFF: "6.6.6.6", sendID: "forged-id", wantXFF: "127.0.0.1"},
		{name: "trusted proxy: chain is kept", trusted: []string{"127.0.0.0/8"}, sendXFF: "203.0.113.7", sendID: "lb-1234", wantXFF: "203.0.113.7, 127.0.0.1", keepSentID: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := waf.Default()
			cfg.Upstream = backend.URL
			cfg.TrustedProxies = tc.trusted
			cfg.Watch = false
			w, err := waf.New(cfg, nil, waf.WithStdout(io.Discard))
			if err != nil {
				t.Fatal(err)
			}
			defer w.Close()
			s := httptest.NewServer(w)
			defer s.Close()
			req, _ := http.NewRequest("GET", s.URL+"/x", nil)
			req.Header.Set("X-Forwarded-For", tc.sendXFF)
			req.Header.Set("X-Request-ID", tc.sendID)
			req.Header.Set("User-Agent", "seawall-test")
			req.Header.Set("Accept", "*/*")
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != 200 {
				t.Fatalf("status %d", res.StatusCode)
			}
			if d := cmp.Diff(tc.wantXFF, got.Get("X-Forwarded-For")); d != "" {
				t.Errorf("X-Forwarded-For (-want +got):\n%s", d)
			}
			id := got.Get("X-Request-ID")
			if id == "" || id != res.Header.Get("X-Request-ID") {
				t.Errorf("request ID upstream %q, to the client %q: want the same, non-empty", id, res.Header.Get("X-Request-ID"))
			}
			if (id == tc.sendID) != tc.keepSentID {
				t.Errorf("request ID %q; client sent %q, keep=%v", id, tc.sendID, tc.keepSentID)
			}
			if got.Get("X-Forwarded-Proto") != "http" || got.Get("X-Forwarded-Host") == "" {
				t.Errorf("X-Forwarded-Proto %q, -Host %q", got.Get("X-Forwarded-Proto"), got.Get("X-Forwarded-Host"))
			}
		})
	}
}

func TestBodyLimitAndRateLimit(t *testing.T) {
	h := newHarness(t, func(c *waf.Config) {
		c.MaxBodyBytes = 64 << 10
		c.BodyInMemoryBytes = 16 << 10
		c.RateLimit = waf.RateLimitConfig{Enabled: true, Rate: 1, Burst: 5, MaxClients: 100,
			Routes: []waf.RouteRate{{Route: waf.Route{Path: "/login", Methods: []string{"POST"}}, Rate: 0.1, Burst: 2}}}
		c.Exclusions = []waf.Exclusion{{Name: "uploads may be large", Route: waf.Route{PathPrefix: "/upload/"}, RuleIDs: []string{"9100300"}}}
	})
	big := strings.Repeat("a", 100<<10)
	st, ev := h.do("POST", "/form", "text/plain", big)
	if st != http.StatusRequestEntityTooLarge || !hasRule(ev, 9100300) {
		t.Errorf("100 KiB body over a 64 KiB limit: %d %v", st, ruleIDs(ev))
	}
	// Excluded route: no limit, and the body streams uninspected.
	st, ev = h.do("POST", "/upload/x", "application/x-www-form-urlencoded", "f="+big)
	if hasRule(ev, 9100300) || st != http.StatusOK {
		t.Errorf("excluded route: %d %v", st, ruleIDs(ev))
	}
	// A chunked body (no Content-Length) is cut off as it streams.
	req, _ := http.NewRequest("POST", h.url+"/form", io.MultiReader(strings.NewReader(big)))
	req.ContentLength = -1
	req.Header.Set("Content-Type", "text/plain")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("chunked 100 KiB body: status %d, want 413", res.StatusCode)
	}

	// Per-route limit: burst 2, then 429.
	var codes []int
	for range 4 {
		st, _ := h.do("POST", "/login", "application/x-www-form-urlencoded", "user=a&pass=b")
		codes = append(codes, st)
	}
	if codes[0] != 200 || codes[1] != 200 || codes[3] != http.StatusTooManyRequests {
		t.Errorf("login statuses %v: want 200, 200, then 429", codes)
	}
}

func TestWebSocketPassThrough(t *testing.T) {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") != "websocket" {
			http.Error(w, "want upgrade", 400)
			return
		}
		c, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer c.Close()
		brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
		brw.Flush()
		line, _ := brw.ReadString('\n')
		brw.WriteString("echo: " + line)
		brw.Flush()
	}))
	defer backend.Close()
	cfg := waf.Default()
	cfg.Upstream = backend.URL
	cfg.Watch = false
	w, err := waf.New(cfg, nil, waf.WithStdout(io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	s := httptest.NewServer(w)
	defer s.Close()

	c, err := net.Dial("tcp", strings.TrimPrefix(s.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprintf(c, "GET /ws HTTP/1.1\r\nHost: app.test\r\nUser-Agent: t\r\nAccept: */*\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")
	br := bufio.NewReader(c)
	res, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != 101 {
		t.Fatalf("status %d, want 101", res.StatusCode)
	}
	fmt.Fprintf(c, "hello\n")
	line, err := br.ReadString('\n')
	if err != nil || line != "echo: hello\n" {
		t.Errorf("after the upgrade got %q, %v", line, err)
	}
}

func TestStreamingResponse(t *testing.T) {
	// A streamed response of a type the engine does not inspect reaches
	// the client chunk by chunk, before the upstream has finished.
	release := make(chan struct{})
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, "data: first\n\n")
		w.(http.Flusher).Flush()
		<-release
		io.WriteString(w, "data: second\n\n")
	}))
	defer backend.Close()
	defer close(release)
	cfg := waf.Default()
	cfg.Upstream = backend.URL
	cfg.Watch = false
	w, err := waf.New(cfg, nil, waf.WithStdout(io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	s := httptest.NewServer(w)
	defer s.Close()
	req, _ := http.NewRequest("GET", s.URL+"/events", nil)
	req.Header.Set("User-Agent", "t")
	req.Header.Set("Accept", "text/event-stream")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	got := make(chan string, 1)
	go func() {
		b := make([]byte, 64)
		n, _ := res.Body.Read(b)
		got <- string(b[:n])
	}()
	select {
	case s := <-got:
		if !strings.Contains(s, "first") {
			t.Errorf("first chunk %q", s)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("the first chunk did not arrive while the upstream was still writing")
	}
}

func TestHTTP2(t *testing.T) {
	backend := httptest.NewServer(echoBackend())
	defer backend.Close()
	cfg := waf.Default()
	cfg.Upstream = backend.URL
	cfg.Watch = false
	w, err := waf.New(cfg, nil, waf.WithStdout(io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	s := httptest.NewUnstartedServer(w)
	s.EnableHTTP2 = true
	s.StartTLS()
	defer s.Close()
	for _, p := range []struct {
		path string
		want int
	}{{"/ok", 200}, {"/.git/config", 403}} {
		req, _ := http.NewRequest("GET", s.URL+p.path, nil)
		req.Header.Set("User-Agent", "t")
		req.Header.Set("Accept", "*/*")
		res, err := s.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.ProtoMajor != 2 || res.StatusCode != p.want {
			t.Errorf("%s: %s %d, want HTTP/2 and %d", p.path, res.Proto, res.StatusCode, p.want)
		}
	}
}

func TestServerH2CReloadAndShutdown(t *testing.T) {
	backend := httptest.NewServer(echoBackend())
	defer backend.Close()
	dir := t.TempDir()
	exFile := filepath.Join(dir, "exclusions.yaml")
	os.WriteFile(exFile, []byte("exclusions: []\n"), 0o644)

	cfg := waf.Default()
	cfg.Listen = "127.0.0.1:0"
	cfg.Upstream = backend.URL
	cfg.H2C = true
	cfg.ExclusionsFile = exFile
	cfg.WatchInterval = waf.Duration(100 * time.Millisecond)
	cfg.ShutdownGrace = waf.Duration(5 * time.Second)
	cfg.Log = filepath.Join(dir, "events.jsonl")
	w, err := waf.New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ready := make(chan net.Addr, 1)
	var reloads atomic.Int32
	srv := &waf.Server{WAF: w, Ready: func(a, _ net.Addr) { ready <- a },
		Load: func() (waf.Config, error) { reloads.Add(1); return cfg, nil }}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	hup := make(chan os.Signal, 1)
	go func() { done <- srv.Run(ctx, hup) }()
	addr := (<-ready).String()

	// h2c: HTTP/2 without TLS.
	h2c := &http.Client{Transport: &http.Transport{Protocols: protocolsH2C()}}
	get := func(c *http.Client, path string) (int, string) {
		req, _ := http.NewRequest("GET", "http://"+addr+path, nil)
		req.Header.Set("User-Agent", "t")
		req.Header.Set("Accept", "*/*")
		res, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return res.StatusCode, res.Proto
	}
	if st, proto := get(h2c, "/.git/config"); st != 403 || proto != "HTTP/2.0" {
		t.Fatalf("h2c: %d %s", st, proto)
	}

	// A file change reloads the rules: the exclusion switches the VCS
	// guard off, with no restart.
	os.WriteFile(exFile, []byte("exclusions:\n  - name: git mirror\n    path_prefix: /.git/\n    rule_ids: [9100103, 930130]\n"), 0o644)
	deadline := time.Now().Add(5 * time.Second)
	for {
		st, _ := get(http.DefaultClient, "/.git/config")
		if st == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("exclusion not picked up after a file change (status %d)", st)
		}
		time.Sleep(50 * time.Millisecond)
	}
	// SIGHUP reloads too.
	before := reloads.Load()
	hup <- os.Interrupt
	for i := 0; i < 100 && reloads.Load() == before; i++ {
		time.Sleep(10 * time.Millisecond)
	}
	if reloads.Load() == before {
		t.Error("no reload on the signal")
	}

	// Graceful shutdown: a request in flight finishes.
	slow := make(chan int, 1)
	go func() {
		req, _ := http.NewRequest("POST", "http://"+addr+"/slow", &slowReader{n: 5, delay: 100 * time.Millisecond})
		req.Header.Set("User-Agent", "t")
		req.Header.Set("Accept", "*/*")
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			slow <- -1
			return
		}
		res.Body.Close()
		slow <- res.StatusCode
	}()
	time.Sleep(150 * time.Millisecond)
	cancel()
	if st := <-slow; st != 200 {
		t.Errorf("request in flight during shutdown: %d", st)
	}
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}
}

func protocolsH2C() *http.Protocols {
	p := new(http.Protocols)
	p.SetUnencryptedHTTP2(true)
	return p
}

type slowReader struct {
	n     int
	delay time.Duration
}

func (s *slowReader) Read(p []byte) (int, error) {
	if s.n == 0 {
		return 0, io.EOF
	}
	time.Sleep(s.delay)
	s.n--
	return copy(p, "chunk "), nil
}

func TestFailModes(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "broken.conf"), []byte("SecRule ARGS \"@rx (\" \"id:1,deny\"\n"), 0o644)
	backend := httptest.NewServer(echoBackend())
	defer backend.Close()
	cfg := waf.Default()
	cfg.Upstream = backend.URL
	cfg.RulesDir = dir
	cfg.Watch = false

	_, err := waf.New(cfg, nil, waf.WithStdout(io.Discard))
	if !errors.Is(err, waf.ErrRules) || !strings.Contains(err.Error(), "broken.conf") {
		t.Errorf("fail closed: got %v; want ErrRules naming broken.conf", err)
	}

	cfg.FailMode = waf.FailOpen
	w, err := waf.New(cfg, nil, waf.WithStdout(io.Discard))
	if err != nil {
		t.Fatalf("fail open: %v", err)
	}
	defer w.Close()
	s := httptest.NewServer(w)
	defer s.Close()
	res, err := http.Get(s.URL + "/?q=1'+OR+1=1--")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Errorf("fail open serves without inspection: status %d", res.StatusCode)
	}

	// A reload with good rules brings inspection back; a reload with bad
	// rules afterwards keeps the good ones.
	good := cfg
	good.RulesDir = ""
	if err := w.Reload(good); err != nil {
		t.Fatal(err)
	}
	if err := w.Reload(cfg); err == nil {
		t.Error("reload with broken rules: no error")
	}
	res, _ = http.Get(s.URL + "/?q=1'+OR+1=1--")
	res.Body.Close()
	if res.StatusCode != 403 {
		t.Errorf("after a failed reload the previous rules should stay: status %d", res.StatusCode)
	}
}

func TestUpstreamDialGuard(t *testing.T) {
	// The proxy's own connection to a metadata address is refused before
	// any packet is sent, whatever the configuration says.
	for _, up := range []string{"http://169.254.169.254", "http://[fd00:ec2::254]:80", "http://169.254.10.10:8080"} {
		cfg := waf.Default()
		cfg.Upstream = up
		cfg.Watch = false
		w, err := waf.New(cfg, nil, waf.WithStdout(io.Discard))
		if err != nil {
			t.Fatal(err)
		}
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("GET", "/ok", nil)
		req.Header.Set("User-Agent", "t")
		req.Header.Set("Accept", "*/*")
		req.Host = "app.test"
		w.ServeHTTP(rec, req)
		if rec.Code != http.StatusBadGateway {
			t.Errorf("upstream %s: status %d, want 502", up, rec.Code)
		}
		w.Close()
	}
}

func TestMetrics(t *testing.T) {
	h := newHarness(t, nil)
	h.do("GET", "/.env", "", "")
	h.do("GET", "/fine", "", "")
	rec := httptest.NewRecorder()
	h.waf.MetricsHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body := rec.Body.String()
	for _, want := range []string{
		`seawall_waf_requests_total{outcome="blocked"} 1`,
		`seawall_waf_blocks_total{rule_id="9100104"} 1`,
		`seawall_waf_request_duration_seconds_bucket`,
		`seawall_waf_rules_loaded`,
		`seawall_waf_regex_fallbacks_total`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	// The requests above ran CRS expressions through their automata.
	if !regexp.MustCompile(`(?m)^seawall_waf_regex_automaton_bytes [1-9]`).MatchString(body) {
		t.Errorf("seawall_waf_regex_automaton_bytes is missing or zero:\n%s", body)
	}
}
