package secret

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/seawall-dev/seawall/internal/inventory"
	"github.com/seawall-dev/seawall/internal/secret/gitleaks"
)

// glDir is where gitleaks' tests run from: their [extend] paths are
// relative to it.
var glDir = filepath.Join("testdata", "gitleaks", "config")

func loadGL(t *testing.T, name string) (*Config, error) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "gitleaks", "testdata", "config", name))
	if err != nil {
		t.Fatal(err)
	}
	return ParseConfig(b, "gitleaks", glDir)
}

// cliRefuses are the configs under valid/ that gitleaks v8.30.1's CLI
// refuses all the same (gitleaks' unit tests only pass on them because
// its extend depth is a global that earlier tests leave set): two bases
// whose own base does not exist, and a rule with neither regex nor path.
var cliRefuses = map[string]bool{
	"valid/extend_base_1.toml":   true,
	"valid/extend_base_2.toml":   true,
	"valid/extend_rule_new.toml": true,
}

// TestGitleaksConfigs: a gitleaks test config loads and compiles exactly
// when gitleaks v8.30.1's CLI accepts it (checked with the binary).
func TestGitleaksConfigs(t *testing.T) {
	for _, kind := range []string{"valid", "invalid"} {
		files, _ := filepath.Glob(filepath.Join("testdata", "gitleaks", "testdata", "config", kind, "*.toml"))
		if len(files) == 0 {
			t.Fatal("no test configs")
		}
		for _, f := range files {
			name := kind + "/" + filepath.Base(f)
			t.Run(name, func(t *testing.T) {
				cfg, err := loadGL(t, name)
				if err == nil {
					_, err = New(cfg, Options{})
				}
				valid := kind == "valid" && !cliRefuses[name]
				if valid && err != nil {
					t.Errorf("refused: %v", err)
				}
				if !valid && err == nil {
					t.Errorf("accepted")
				}
			})
		}
	}
	// The top-level ones.
	for _, name := range []string{"generic.toml", "simple.toml", "composite.toml", "archives.toml", "encoded.toml", "generic_with_py_path.toml"} {
		if _, err := loadGL(t, name); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func ruleOf(t *testing.T, c *Config, id string) Rule {
	t.Helper()
	for _, r := range c.Rules {
		if r.ID == id {
			return r
		}
	}
	t.Fatalf("no rule %s", id)
	return Rule{}
}

func TestGitleaksExtend(t *testing.T) {
	// A chain of three files.
	c, err := loadGL(t, "valid/extend.toml")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range c.Rules {
		got = append(got, r.ID)
	}
	// extend.toml → extend_base_1 → extend_base_2, whose own extend is past
	// gitleaks' depth limit and ignored.
	if diff := cmp.Diff([]string{"aws-secret-key-again", "aws-access-key", "aws-secret-key"}, got); diff != "" {
		t.Errorf("extend chain (-want +got):\n%s", diff)
	}
	// useDefault brings in gitleaks' own rules, and the override adds an
	// allowlist to one of them.
	c, err = loadGL(t, "valid/allowlist_rule_extend_default.toml")
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Rules) != 222 {
		t.Errorf("useDefault: %d rules, want gitleaks' 222", len(c.Rules))
	}
	def, err := ParseConfig(gitleaks.Default, "gitleaks", "")
	if err != nil {
		t.Fatal(err)
	}
	n := len(ruleOf(t, def, "generic-api-key").Allowlists)
	g := ruleOf(t, c, "generic-api-key")
	if g.Regex == "" || len(g.Allowlists) != n+1 || len(g.Allowlists[n].Paths) != 1 {
		t.Errorf("generic-api-key after override: regex %q, %d allowlists", g.Regex, len(g.Allowlists))
	}
	// disabledRules
	c, err = loadGL(t, "valid/extend_disabled.toml")
	if err != nil {
		t.Fatal(err)
	}
	if c.hasRule("custom-rule1") || !c.hasRule("aws-secret-key") || !c.hasRule("pypi-upload-token") {
		t.Errorf("disabledRules: rules %v", c.Rules)
	}
}

func TestGitleaksFields(t *testing.T) {
	src := `
title = "t"
[[rules]]
id = "r1"
description = "d"
regex = '''tok_([a-z0-9]{12})'''
secretGroup = 1
entropy = 2.5
keywords = ["TOK_"]
path = '''\.env$'''
severity = "critical"
tags = ["a"]
[rules.allowlist]
regexes = ['''^0+$''']
stopwords = ["dummy"]
regexTarget = "secret"

[allowlist]
paths = ['''vendor/''']
`
	c, err := ParseConfig([]byte(src), "gitleaks", "")
	if err != nil {
		t.Fatal(err)
	}
	want := &Config{
		Title:  "t",
		Format: "gitleaks",
		Rules: []Rule{{
			ID: "r1", Description: "d", Severity: inventory.SeverityCritical, Keywords: []string{"TOK_"},
			Regex: `tok_([a-z0-9]{12})`, SecretGroup: 1, Entropy: 2.5, Path: `\.env$`, Tags: []string{"a"},
			Allowlists: []Allowlist{{Regexes: []string{`^0+$`}, StopWords: []string{"dummy"}, RegexTarget: "secret"}},
		}},
		Allowlists: []Allowlist{{Paths: []string{`vendor/`}}},
	}
	if diff := cmp.Diff(want, c); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestGitleaksDefaultCompiles(t *testing.T) {
	c, err := ParseConfig(gitleaks.Default, "gitleaks", "")
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(c, Options{})
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	for _, id := range s.Rules() {
		counts[s.Strategy(id)]++
	}
	t.Logf("gitleaks' %d rules by strategy: %v", len(s.Rules()), counts)
}

func TestYAMLConfig(t *testing.T) {
	src := `
title: mine
extends: default
disable: [jwt]
allowlists:
  - paths: ['^/opt/fixtures/']
rules:
  - id: acme-token
    description: ACME API token
    severity: critical
    keywords: [acme_]
    regex: 'acme_[a-z0-9]{24}'
  - id: generic-secret
    entropy: 4.2
`
	c, err := ParseConfig([]byte(src), "seawall", "")
	if err != nil {
		t.Fatal(err)
	}
	if c.hasRule("jwt") || !c.hasRule("acme-token") || !c.hasRule("github-pat") {
		t.Errorf("rules: disable or extend did not apply")
	}
	if g := ruleOf(t, c, "generic-secret"); g.Entropy != 4.2 || g.Regex == "" {
		t.Errorf("override: %+v", g)
	}
	s, err := New(c, Options{})
	if err != nil {
		t.Fatal(err)
	}
	got := scanString(t, s, "/app/x.env", "ACME=acme_"+strings.Repeat("a1b2c3", 4)+"\n")
	if len(got) != 1 || got[0].ID != "acme-token" || got[0].Severity != inventory.SeverityCritical {
		t.Errorf("custom rule: %+v", got)
	}
	if got := scanString(t, s, "/opt/fixtures/x.env", "ACME=acme_"+strings.Repeat("a1b2c3", 4)+"\n"); len(got) != 0 {
		t.Errorf("allowlisted path scanned: %+v", got)
	}

	for _, bad := range []string{
		"rules: [{id: x}]",                                  // no regex, no path
		"rules: [{id: x, regex: '('}]",                      // bad regex
		"rules: [{id: x, regex: 'a', secretGroup: 2}]",      // no such group
		"rules: [{id: x, regex: 'a'}, {id: x, regex: 'b'}]", // duplicate
		"rules: [{id: x, regex: 'a', keywords: ['']}]",
		"rules: [{id: x, regex: 'a', allowlists: [{}]}]",
		"rules: [{id: x, regex: 'a', allowlists: [{regexes: [a], condition: XOR}]}]",
		"rules: [{id: x, regex: 'a', severity: huge}]",
		"extends: nonsense",
		"disable: [x]",
		"unknown_key: 1",
		"allowlists: [{targetRules: [nope], regexes: [a]}]",
	} {
		if _, err := ParseConfig([]byte(bad), "seawall", ""); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}
}

func TestLoadConfig(t *testing.T) {
	dir := t.TempDir()
	toml := filepath.Join(dir, "gitleaks.toml")
	os.WriteFile(toml, []byte("[extend]\nuseDefault = true\n"), 0o644)
	yml := filepath.Join(dir, "rules.yml")
	os.WriteFile(yml, []byte("extends: default\n"), 0o644)
	odd := filepath.Join(dir, ".gitleaks")
	os.WriteFile(odd, []byte("# a gitleaks config without an extension\n[[rules]]\nid = \"x\"\nregex = 'x'\n"), 0o644)
	for p, n := range map[string]int{toml: 222, yml: len(DefaultConfig().Rules), odd: 1} {
		c, err := LoadConfig(p)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if len(c.Rules) != n {
			t.Errorf("%s: %d rules, want %d", p, len(c.Rules), n)
		}
	}
	if _, err := LoadConfig(filepath.Join(dir, "missing.toml")); err == nil {
		t.Error("missing file accepted")
	}
}
