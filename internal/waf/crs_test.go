package waf_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	crstests "github.com/corazawaf/coraza-coreruleset/v4/tests"
	"github.com/coreruleset/go-ftw/v2/config"
	"github.com/coreruleset/go-ftw/v2/output"
	"github.com/coreruleset/go-ftw/v2/runner"
	"github.com/coreruleset/go-ftw/v2/test"
	"github.com/rs/zerolog"
	"gopkg.in/yaml.v3"

	"github.com/seawall-dev/seawall/internal/waf"
)

// crsTestSettings are the CRS settings the regression tests are written
// for: every rule on (paranoia 4, in detect mode, so that each test sees
// all of its matches in the log) and the limits the tests exercise.
const crsTestSettings = `SecAction "id:9109001,phase:1,pass,nolog,t:none,\
  setvar:tx.crs_validate_utf8_encoding=1,\
  setvar:tx.arg_name_length=100,\
  setvar:tx.arg_length=400,\
  setvar:tx.total_arg_length=64000,\
  setvar:tx.max_num_args=255,\
  setvar:tx.max_file_size=64100,\
  setvar:tx.combined_file_sizes=65535"
`

// knownFailure is a CRS test that Seawall is known to fail, with why.
type knownFailure struct {
	Test   string `yaml:"test"`
	Reason string `yaml:"reason"`
}

// TestCRSRegression runs the CRS v4 regression suite (shipped in the
// coraza-coreruleset module) with go-ftw in log mode against a real
// seawall waf server in front of an echo backend. It fails on any failure
// not listed, with its reason, in testdata/crs-known-failures.yaml.
func TestCRSRegression(t *testing.T) {
	if testing.Short() {
		t.Skip("the CRS regression suite takes about a minute; skipped with -short")
	}
	backend := httptest.NewServer(echoBackend())
	defer backend.Close()

	dir := t.TempDir()
	rules := filepath.Join(dir, "rules")
	if err := os.Mkdir(rules, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(rules, "crs-test-settings.conf"), []byte(crsTestSettings), 0o644); err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(dir, "events.jsonl")

	cfg := waf.Default()
	cfg.Listen = "127.0.0.1:0"
	cfg.Upstream = backend.URL
	cfg.Mode = waf.ModeDetect
	cfg.Paranoia = 4
	cfg.RulesDir = rules
	cfg.Log = logPath
	cfg.LogMarkerHeader = "X-CRS-Test"
	cfg.RateLimit.Enabled = false // go-ftw sends ~20,000 requests from one address
	cfg.Watch = false
	cfg.ResponseMIMETypes = []string{"text/plain", "text/html", "text/xml", "application/json"}

	w, err := waf.New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan net.Addr, 1)
	done := make(chan error, 1)
	srv := &waf.Server{WAF: w, Ready: func(a, _ net.Addr) { ready <- a }}
	go func() { done <- srv.Run(ctx, nil) }()
	defer func() { cancel(); <-done }()
	var addr net.Addr
	select {
	case addr = <-ready:
	case err := <-done:
		t.Fatal(err)
	}

	var tests []*test.FTWTest
	kind := map[uint]string{} // REQUEST or RESPONSE, from the directory
	err = fs.WalkDir(crstests.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".yaml") {
			return err
		}
		data, err := fs.ReadFile(crstests.FS, p)
		if err != nil {
			return err
		}
		ft, err := test.GetTestFromYaml(data, p)
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		tests = append(tests, ft)
		kind[ft.RuleId] = strings.SplitN(p, "-", 2)[0]
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	host, port, _ := net.SplitHostPort(addr.String())
	portN, _ := strconv.Atoi(port)
	fcfg := config.NewDefaultConfig()
	fcfg.LogFile = logPath
	fcfg.TestOverride.Overrides.DestAddr = &host
	fcfg.TestOverride.Overrides.Port = &portN
	rc := config.NewRunnerConfiguration(fcfg)
	rc.ReadTimeout = 10 * time.Second
	rc.ConnectTimeout = 3 * time.Second
	rc.ShowOnlyFailed = true
	if inc := os.Getenv("SEAWALL_CRS_INCLUDE"); inc != "" {
		rc.Include = regexp.MustCompile(inc) // for debugging one rule's tests
	}
	zerolog.SetGlobalLevel(zerolog.WarnLevel)

	var out bytes.Buffer
	start := time.Now()
	res, err := runner.Run(rc, tests, output.NewOutput("quiet", &out))
	if err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)

	known := map[string]string{}
	if data, err := os.ReadFile("testdata/crs-known-failures.yaml"); err == nil {
		var list []knownFailure
		if err := yaml.Unmarshal(data, &list); err != nil {
			t.Fatal(err)
		}
		for _, k := range list {
			known[k.Test] = k.Reason
		}
	}
	count := func(ids []string) map[string]int {
		m := map[string]int{}
		for _, id := range ids {
			rule, _ := strconv.Atoi(strings.SplitN(id, "-", 2)[0])
			m[kind[uint(rule)]]++
		}
		return m
	}
	passed, failed := count(res.Stats.Success), count(res.Stats.Failed)
	for _, k := range []string{"REQUEST", "RESPONSE"} {
		t.Logf("CRS %s tests: %d run, %d passed, %d failed", k, passed[k]+failed[k], passed[k], failed[k])
	}
	t.Logf("CRS suite: %d tests run, %d passed, %d failed, %d skipped, in %s", res.Stats.Run, len(res.Stats.Success), len(res.Stats.Failed), len(res.Stats.Skipped), took.Round(time.Second))
	if os.Getenv("SEAWALL_CRS_REPORT") != "" {
		f := append([]string(nil), res.Stats.Failed...)
		sort.Strings(f)
		os.WriteFile(os.Getenv("SEAWALL_CRS_REPORT"), []byte(strings.Join(f, "\n")+"\n"), 0o644)
	}
	var unexpected []string
	for _, id := range res.Stats.Failed {
		if _, ok := known[id]; !ok {
			unexpected = append(unexpected, id)
		}
	}
	if len(unexpected) > 0 {
		sort.Strings(unexpected)
		t.Errorf("%d CRS tests failed that are not in testdata/crs-known-failures.yaml: %v", len(unexpected), unexpected)
	}
	if passed["REQUEST"] < 4563 {
		t.Errorf("passed %d REQUEST tests; the bar is 4,563 (plain Coraza with CRS 4.25 on this machine)", passed["REQUEST"])
	}
}
