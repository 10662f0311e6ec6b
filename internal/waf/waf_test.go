package waf_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seawall-dev/seawall/internal/waf"
)

// syncBuffer is the event log in tests: written by the WAF, read by the
// test while requests are still finishing.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) events() []waf.Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []waf.Event
	sc := bufio.NewScanner(bytes.NewReader(s.b.Bytes()))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var e waf.Event
		if json.Unmarshal(sc.Bytes(), &e) == nil {
			out = append(out, e)
		}
	}
	return out
}

// fakeResolver answers from a table; every other name does not exist.
type fakeResolver map[string][]netip.Addr

func (f fakeResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	if a, ok := f[host]; ok {
		return a, nil
	}
	return nil, errors.New("no such host")
}

var testResolver = fakeResolver{
	"metadata.attacker.test": {netip.MustParseAddr("169.254.169.254")},
	"rebind.attacker.test":   {netip.MustParseAddr("127.0.0.1")},
	"ll.attacker.test":       {netip.MustParseAddr("fe80::1")},
	"v6meta.attacker.test":   {netip.MustParseAddr("fd00:ec2::254")},
	"www.example.com":        {netip.MustParseAddr("93.184.216.34")},
}

// harness is a WAF in front of the echo backend.
type harness struct {
	t      *testing.T
	waf    *waf.WAF
	url    string
	events *syncBuffer
}

func newHarness(t *testing.T, mutate func(*waf.Config), opts ...waf.Option) *harness {
	t.Helper()
	backend := httptest.NewServer(echoBackend())
	t.Cleanup(backend.Close)
	cfg := waf.Default()
	cfg.Upstream = backend.URL
	cfg.Watch = false
	cfg.RateLimit.Enabled = false
	if mutate != nil {
		mutate(&cfg)
	}
	ev := &syncBuffer{}
	opts = append([]waf.Option{waf.WithStdout(ev), waf.WithResolver(testResolver)}, opts...)
	w, err := waf.New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	s := httptest.NewServer(w)
	t.Cleanup(s.Close)
	return &harness{t: t, waf: w, url: s.URL, events: ev}
}

// do sends a request and returns the status and the event logged for it,
// if any.
func (h *harness) do(method, target, contentType, body string) (int, *waf.Event) {
	h.t.Helper()
	req, err := http.NewRequest(method, h.url+target, strings.NewReader(body))
	if err != nil {
		h.t.Fatal(err)
	}
	req.Header.Set("User-Agent", "seawall-test")
	req.Header.Set("Accept", "*/*")
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	id := res.Header.Get("X-Request-ID")
	if id == "" {
		h.t.Fatalf("%s %s: no X-Request-ID in the response", method, target)
	}
	// The event is written as the handler returns, which may be just
	// after the client has its response.
	for i := 0; i < 100; i++ {
		for _, e := range h.events.events() {
			if e.RequestID == id {
				return res.StatusCode, &e
			}
		}
		if res.StatusCode < 400 && i > 5 {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	return res.StatusCode, nil
}

func hasRule(e *waf.Event, id int) bool {
	if e == nil {
		return false
	}
	for _, r := range e.RuleIDs {
		if r == id {
			return true
		}
	}
	return false
}

// blocksBesides reports whether rules other than id would refuse the
// request: the CRS anomaly evaluation, or another Seawall guard.
func blocksBesides(e *waf.Event, id int) bool {
	if e == nil {
		return false
	}
	for _, r := range e.RuleIDs {
		if r != id && (r == 949110 || r == 959100 || (r >= 9100101 && r <= 9100499)) {
			return true
		}
	}
	return false
}

func TestAdminPaths(t *testing.T) {
	list, err := waf.AdminPaths()
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, a := range list {
		ids = append(ids, itoa(a.ID))
	}
	block := newHarness(t, nil)
	detect := newHarness(t, func(c *waf.Config) { c.Mode = waf.ModeDetect })
	excluded := newHarness(t, func(c *waf.Config) {
		c.Exclusions = []waf.Exclusion{{Name: "all admin paths", RuleIDs: ids}}
	})
	for _, a := range list {
		if len(a.Examples) == 0 {
			t.Errorf("%s (%d): no examples to test", a.Name, a.ID)
		}
		for _, p := range a.Examples {
			t.Run(a.Name+p, func(t *testing.T) {
				st, ev := block.do("GET", p, "", "")
				if st != http.StatusForbidden || !hasRule(ev, a.ID) || ev.Action != waf.ActionBlocked {
					t.Errorf("block mode: %s got %d, event %+v; want 403 by %d", p, st, ruleIDs(ev), a.ID)
				}
				st, ev = detect.do("GET", p, "", "")
				if st != http.StatusOK || !hasRule(ev, a.ID) || ev.Action != waf.ActionDetected || !ev.WouldBlock {
					t.Errorf("detect mode: %s got %d, event %v; want 200 and a detection by %d", p, st, ruleIDs(ev), a.ID)
				}
				st, ev = excluded.do("GET", p, "", "")
				if hasRule(ev, a.ID) || (st != http.StatusOK && !blocksBesides(ev, a.ID)) {
					t.Errorf("excluded: %s got %d, event %v; want %d not to fire", p, st, ruleIDs(ev), a.ID)
				}
			})
		}
		for _, p := range a.Benign {
			t.Run(a.Name+"/benign"+p, func(t *testing.T) {
				if st, ev := block.do("GET", p, "", ""); hasRule(ev, a.ID) {
					t.Errorf("benign %s got %d, event %v", p, st, ruleIDs(ev))
				}
			})
		}
	}
}

func ruleIDs(e *waf.Event) []int {
	if e == nil {
		return nil
	}
	return e.RuleIDs
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// ssrfCases are the SSRF encodings the guard must refuse, with the rule
// that must refuse each.
var ssrfCases = []struct {
	name, value string
	id          int
}{
	{"aws-metadata", "http://169.254.169.254/latest/meta-data/", 9100201},
	{"aws-metadata-ipv6", "http://[fd00:ec2::254]/latest/meta-data/", 9100201},
	{"gcp-metadata-name", "http://metadata.google.internal/computeMetadata/v1/", 9100201},
	{"gcp-metadata-short-name", "http://metadata/computeMetadata/v1/", 9100201},
	{"gcp-metadata-goog", "https://metadata.goog/", 9100201},
	{"alibaba-metadata", "http://100.100.100.200/latest/meta-data/", 9100201},
	{"ecs-task-metadata", "http://169.254.170.2/v2/credentials", 9100201},
	{"decimal", "http://2852039166/latest/", 9100201},
	{"hex", "http://0xA9FEA9FE/latest/", 9100201},
	{"hex-dotted", "http://0xa9.0xfe.0xa9.0xfe/", 9100201},
	{"octal-dotted", "http://0251.0376.0251.0376/", 9100201},
	{"octal-padded", "http://00251.00376.00251.00376/", 9100201},
	{"mixed", "http://0251.254.0xa9.254/", 9100201},
	{"three-part", "http://169.254.43518/", 9100201},
	{"two-part", "http://169.16689662/", 9100201},
	{"trailing-dot", "http://169.254.169.254./", 9100201},
	{"ipv4-mapped", "http://[::ffff:169.254.169.254]/", 9100201},
	{"ipv4-mapped-hex", "http://[::ffff:a9fe:a9fe]/", 9100201},
	{"ipv4-mapped-long", "http://[0:0:0:0:0:ffff:a9fe:a9fe]/", 9100201},
	{"ipv4-compatible", "http://[::169.254.169.254]/", 9100201},
	{"nat64", "http://[64:ff9b::a9fe:a9fe]/", 9100201},
	{"6to4", "http://[2002:a9fe:a9fe::]/", 9100201},
	{"userinfo", "http://user:pass@169.254.169.254/", 9100201},
	{"userinfo-confusion", "http://example.com@169.254.169.254/", 9100201},
	{"fragment-confusion", "http://169.254.169.254#@example.com/", 9100201},
	{"port", "http://169.254.169.254:80/latest/", 9100201},
	{"backslashes", `http:\\169.254.169.254\latest`, 9100201},
	{"gopher", "gopher://169.254.169.254:80/_GET%20/", 9100201},
	{"scheme-relative", "//169.254.169.254/latest/", 9100201},
	{"bare-address", "169.254.169.254", 9100201},
	{"bare-address-port", "169.254.169.254:80", 9100201},
	{"bare-metadata-name", "metadata.google.internal", 9100201},
	{"percent-encoded-host", "http://%31%36%39.254.169.254/", 9100201},
	{"full-width-digits", "http://１６９.２５４.１６９.２５４/", 9100201},
	{"ideographic-dots", "http://169。254。169。254/", 9100201},
	{"link-local", "http://169.254.1.1/", 9100202},
	{"link-local-v6", "http://[fe80::1]/", 9100202},
	{"link-local-v6-zone", "http://[fe80::1%25eth0]/", 9100202},
	{"loopback", "http://127.0.0.1:8080/admin", 9100203},
	{"loopback-short", "http://127.1/", 9100203},
	{"loopback-octal", "http://0177.0.0.1/", 9100203},
	{"loopback-decimal", "http://2130706433/", 9100203},
	{"loopback-hex", "http://0x7f000001/", 9100203},
	{"loopback-other", "http://127.127.127.127/", 9100203},
	{"loopback-v6", "http://[::1]/", 9100203},
	{"loopback-mapped", "http://[::ffff:127.0.0.1]/", 9100203},
	{"unspecified", "http://0.0.0.0:6379/", 9100203},
	{"unspecified-short", "http://0/", 9100203},
	{"unspecified-v6", "http://[::]/", 9100203},
	{"localhost", "http://localhost/server-status", 9100203},
	{"localhost-subdomain", "http://app.localhost/", 9100203},
	{"bare-localhost", "localhost", 9100203},
	{"dns-metadata", "http://metadata.attacker.test/latest/", 9100204},
	{"dns-metadata-v6", "http://v6meta.attacker.test/", 9100204},
	{"dns-loopback", "https://rebind.attacker.test:8443/", 9100204},
	{"dns-link-local", "http://ll.attacker.test/", 9100204},
}

// ssrfBenign must pass: public URLs, and numbers that only look like
// addresses.
var ssrfBenign = []string{
	"http://www.example.com/latest/",
	"https://10.0.0.5/internal-but-not-in-scope",
	"2130706433",
	"0.5",
	"1.2",
	"127.5",
	"169.254",
	"0x7f000001",
	"the server at 127.0.0.1 was restarted",
	"metadata",
	"version 169.254",
}

// ssrfPlaces are where a value can sit in a request.
var ssrfPlaces = []struct {
	name string
	req  func(v string) (method, target, contentType, body string)
}{
	{"query", func(v string) (string, string, string, string) {
		return "GET", "/fetch?url=" + url.QueryEscape(v), "", ""
	}},
	{"form", func(v string) (string, string, string, string) {
		return "POST", "/fetch", "application/x-www-form-urlencoded", "url=" + url.QueryEscape(v)
	}},
	{"json", func(v string) (string, string, string, string) {
		b, _ := json.Marshal(map[string]any{"hook": map[string]string{"target": v}})
		return "POST", "/fetch", "application/json", string(b)
	}},
	{"text", func(v string) (string, string, string, string) {
		return "POST", "/fetch", "text/plain", v
	}},
}

func TestSSRFGuard(t *testing.T) {
	block := newHarness(t, nil)
	detect := newHarness(t, func(c *waf.Config) { c.Mode = waf.ModeDetect })
	excluded := newHarness(t, func(c *waf.Config) {
		c.Exclusions = []waf.Exclusion{
			{Name: "webhook target may be anything", Route: waf.Route{PathPrefix: "/fetch"}, RuleIDs: []string{"9100201-9100204"}, Parameters: []string{"url", "json.hook.target", "ARGS_NAMES"}},
			{Name: "raw bodies on /fetch", Route: waf.Route{PathPrefix: "/fetch", Methods: []string{"POST"}}, RuleIDs: []string{"9100205"}},
		}
	})
	for _, c := range ssrfCases {
		for _, pl := range ssrfPlaces {
			id := c.id
			t.Run(c.name+"/"+pl.name, func(t *testing.T) {
				m, target, ct, body := pl.req(c.value)
				st, ev := block.do(m, target, ct, body)
				if st != http.StatusForbidden || !hasRule(ev, id) {
					t.Errorf("block mode: %q got %d, rules %v; want 403 by %d", c.value, st, ruleIDs(ev), id)
				}
				st, ev = detect.do(m, target, ct, body)
				if st != http.StatusOK || !hasRule(ev, id) || ev.Action != waf.ActionDetected || !ev.WouldBlock {
					t.Errorf("detect mode: %q got %d, rules %v; want 200 and a detection by %d", c.value, st, ruleIDs(ev), id)
				}
				st, ev = excluded.do(m, target, ct, body)
				if hasRule(ev, id) || (st != http.StatusOK && !blocksBesides(ev, id)) {
					t.Errorf("excluded: %q got %d, rules %v; want %d not to fire", c.value, st, ruleIDs(ev), id)
				}
			})
		}
	}
	for _, v := range ssrfBenign {
		for _, pl := range ssrfPlaces {
			t.Run("benign/"+v+"/"+pl.name, func(t *testing.T) {
				m, target, ct, body := pl.req(v)
				st, ev := block.do(m, target, ct, body)
				for id := 9100201; id <= 9100205; id++ {
					if hasRule(ev, id) {
						t.Errorf("%q: refused by %d", v, id)
					}
				}
				_ = st
			})
		}
	}
}
