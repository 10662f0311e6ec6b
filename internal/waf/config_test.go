package waf_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/seawall-dev/seawall/internal/waf"
)

func TestConfigFileAndEnv(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "waf.yaml")
	os.WriteFile(f, []byte(`
upstream: http://127.0.0.1:9000
mode: detect
paranoia: 2
trusted_proxies: [10.0.0.0/8]
rate_limit:
  rate: 5
  burst: 10
  routes:
    - path: /login
      methods: [POST]
      rate: 0.5
      burst: 3
watch_interval: 5s
`), 0o644)
	cfg := waf.Default()
	if err := waf.LoadFile(f, &cfg); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"SEAWALL_WAF_PARANOIA": "3"}
	if err := waf.ApplyEnv(&cfg, func(k string) string { return env[k] }); err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	if cfg.Mode != "detect" || cfg.Paranoia != 3 || cfg.RateLimit.Rate != 5 || !cfg.RateLimit.Enabled ||
		cfg.RateLimit.Routes[0].Path != "/login" || time.Duration(cfg.WatchInterval) != 5*time.Second || cfg.AnomalyInbound != 5 {
		t.Errorf("loaded %+v", cfg)
	}

	os.WriteFile(f, []byte("paranoya: 2\n"), 0o644)
	if err := waf.LoadFile(f, &cfg); err == nil || !strings.Contains(err.Error(), "paranoya") {
		t.Errorf("unknown key: got %v", err)
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*waf.Config)
		want   string
	}{
		{"no upstream", func(c *waf.Config) { c.Upstream = "" }, "upstream is not set"},
		{"bad mode", func(c *waf.Config) { c.Mode = "block-all" }, "use block or detect"},
		{"paranoia", func(c *waf.Config) { c.Paranoia = 5 }, "use 1, 2, 3 or 4"},
		{"proxy", func(c *waf.Config) { c.TrustedProxies = []string{"nope"} }, "not an IP address or CIDR"},
		{"exclusion", func(c *waf.Config) { c.Exclusions = []waf.Exclusion{{Name: "x"}} }, "give rule_ids or tags"},
		{"range", func(c *waf.Config) { c.DisabledRules = []string{"942199-942100"} }, "LOW-HIGH"},
		{"regex", func(c *waf.Config) {
			c.Exclusions = []waf.Exclusion{{Name: "x", Route: waf.Route{PathRegex: "("}, RuleIDs: []string{"1"}}}
		}, "path_regex"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := waf.Default()
			c.Upstream = "http://127.0.0.1:9000"
			tc.mutate(&c)
			err := c.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error with %q", err, tc.want)
			}
		})
	}
}

func TestExclusionsFile(t *testing.T) {
	f := filepath.Join(t.TempDir(), "ex.yaml")
	os.WriteFile(f, []byte(`
exclusions:
  - name: free-text search
    path: /search
    rule_ids: ["942100-942999"]
    parameters: [q]
  - name: CMS editor posts HTML
    path_prefix: /admin/editor/
    methods: [POST]
    tags: [attack-xss]
`), 0o644)
	got, err := waf.LoadExclusions(f)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"free-text search", "CMS editor posts HTML"}
	var names []string
	for _, e := range got {
		names = append(names, e.Name)
	}
	if d := cmp.Diff(want, names); d != "" {
		t.Error(d)
	}

	// End to end: the SQL injection rules are off for ?q= on /search only.
	h := newHarness(t, func(c *waf.Config) { c.ExclusionsFile = f })
	attack := "/?q=" + "1%27%20UNION%20SELECT%20password%20FROM%20users--"
	if st, _ := h.do("GET", "/search"+attack[1:], "", ""); st != 200 {
		t.Errorf("excluded parameter on /search: %d", st)
	}
	if st, _ := h.do("GET", "/search?id=1%27%20UNION%20SELECT%20password%20FROM%20users--", "", ""); st != 403 {
		t.Errorf("other parameter on /search: %d, want 403", st)
	}
	if st, _ := h.do("GET", "/other"+attack[1:], "", ""); st != 403 {
		t.Errorf("same parameter on another route: %d, want 403", st)
	}
	if st, _ := h.do("GET", "/search/../other"+attack[1:], "", ""); st != 403 {
		t.Errorf("dot segments must not reach the exclusion: %d, want 403", st)
	}
	if st, _ := h.do("POST", "/admin/editor/page", "application/x-www-form-urlencoded", "body=%3Cscript%3Ealert(1)%3C%2Fscript%3E"); st != 200 {
		t.Errorf("tag exclusion on the editor: %d", st)
	}
	if st, _ := h.do("POST", "/comments", "application/x-www-form-urlencoded", "body=%3Cscript%3Ealert(1)%3C%2Fscript%3E"); st != 403 {
		t.Errorf("XSS elsewhere: %d, want 403", st)
	}
}
