package secret

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/seawall-dev/seawall/internal/inventory"
)

// Config is a set of rules and the allowlists that apply to all of them.
// It is plain data: New compiles it.
type Config struct {
	// Title names the configuration (for messages).
	Title string `yaml:"title,omitempty"`
	// Format is where the configuration came from: "seawall" (YAML) or
	// "gitleaks" (TOML).
	Format string `yaml:"-"`
	Rules  []Rule `yaml:"rules"`
	// Allowlists apply to every rule. An allowlist that names TargetRules
	// applies to those rules only.
	Allowlists []Allowlist `yaml:"allowlists,omitempty"`
	// Warnings are what was accepted but ignored or adjusted while
	// reading the configuration (unknown keys, duplicate rule IDs).
	Warnings []string `yaml:"-"`
}

// Rule is one kind of secret.
type Rule struct {
	ID          string             `yaml:"id"`
	Description string             `yaml:"description"`
	Severity    inventory.Severity `yaml:"severity,omitempty"`
	// Keywords prefilter the rule: its regular expression only runs on
	// text that holds at least one of them (ignoring case). A rule with
	// no keywords runs on every text file, which is slow.
	Keywords []string `yaml:"keywords,omitempty"`
	// Regex is a Go (RE2) regular expression.
	Regex string `yaml:"regex,omitempty"`
	// SecretGroup is the capture group that holds the secret. Zero means
	// the first non-empty group, or the whole match when there is none.
	SecretGroup int `yaml:"secretGroup,omitempty"`
	// Entropy is the Shannon entropy (bits per byte) that the secret
	// must exceed; zero disables the check.
	Entropy float64 `yaml:"entropy,omitempty"`
	// Path, when set, restricts the rule to files whose path it matches.
	// A rule with a Path and no Regex reports the file itself.
	Path       string      `yaml:"path,omitempty"`
	Allowlists []Allowlist `yaml:"allowlists,omitempty"`
	Tags       []string    `yaml:"tags,omitempty"`
	// Required makes a composite rule (gitleaks' [[rules.required]]): it
	// reports only when findings of each required rule are near.
	Required []Required `yaml:"required,omitempty"`
	// SkipReport keeps a rule's own findings out of the report; it still
	// serves as another rule's requirement.
	SkipReport bool `yaml:"skipReport,omitempty"`
}

// Allowlist conditions.
const (
	ConditionOr  = "OR"
	ConditionAnd = "AND"
)

// Allowlist says what is not a secret after all.
type Allowlist struct {
	Description string `yaml:"description,omitempty"`
	// Condition is "OR" (the default: any check allows) or "AND" (every
	// check that is set must allow).
	Condition string `yaml:"condition,omitempty"`
	// Paths are regular expressions on the file's path.
	Paths []string `yaml:"paths,omitempty"`
	// Regexes are regular expressions on RegexTarget: "secret" (the
	// default), "match" (the rule's whole match) or "line".
	Regexes     []string `yaml:"regexes,omitempty"`
	RegexTarget string   `yaml:"regexTarget,omitempty"`
	// StopWords allow a secret that contains one of them (ignoring case).
	StopWords []string `yaml:"stopwords,omitempty"`
	// TargetRules limits a global allowlist to these rule IDs.
	TargetRules []string `yaml:"targetRules,omitempty"`
	// Commits come from gitleaks configs. An image has no commits, so an
	// allowlist with only commits never allows anything; with condition
	// AND it never allows either.
	Commits []string `yaml:"commits,omitempty"`
}

//go:embed rules.yaml
var defaultRules []byte

// DefaultConfig returns Seawall's built-in rules.
func DefaultConfig() *Config {
	c, err := parseYAML(defaultRules, nil)
	if err != nil {
		panic(fmt.Sprintf("secret: built-in rules: %v", err)) // covered by tests
	}
	c.Title = "seawall default secret rules"
	return c
}

// LoadConfig reads a rule file: a gitleaks TOML config (accepted as is)
// or a Seawall YAML file. The extension decides (.toml, or .yaml/.yml);
// other names are sniffed.
func LoadConfig(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("secret config: %w", err)
	}
	var c *Config
	switch strings.ToLower(filepath.Ext(path)) {
	case ".toml":
		c, err = parseGitleaks(b, filepath.Dir(path))
	case ".yaml", ".yml":
		c, err = parseYAML(b, nil)
	default:
		if looksLikeTOML(b) {
			c, err = parseGitleaks(b, filepath.Dir(path))
		} else {
			c, err = parseYAML(b, nil)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("secret config %s: %w", path, err)
	}
	if c.Title == "" {
		c.Title = path
	}
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("secret config %s: %w", path, err)
	}
	return c, nil
}

// ParseConfig reads a configuration from memory; format is "gitleaks"
// (TOML) or "seawall" (YAML). A gitleaks config's `[extend] path` is
// resolved against dir.
func ParseConfig(data []byte, format, dir string) (*Config, error) {
	var (
		c   *Config
		err error
	)
	switch format {
	case "gitleaks", "toml":
		c, err = parseGitleaks(data, dir)
	case "seawall", "yaml":
		c, err = parseYAML(data, nil)
	default:
		return nil, fmt.Errorf("secret config: unknown format %q (want gitleaks or seawall)", format)
	}
	if err != nil {
		return nil, err
	}
	return c, c.Validate()
}

func looksLikeTOML(b []byte) bool {
	for _, line := range bytes.Split(b, []byte("\n")) {
		line = bytes.TrimSpace(line)
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		return line[0] == '[' || bytes.Contains(line, []byte(" = ")) || bytes.HasPrefix(line, []byte("title ="))
	}
	return false
}

// yamlFile is Seawall's rule file.
type yamlFile struct {
	Title string `yaml:"title"`
	// Extends names a rule set to start from: "default" (Seawall's),
	// "gitleaks" (gitleaks' default config) or "none" (the default).
	Extends string `yaml:"extends"`
	// Disable drops rules, by ID, from the extended set.
	Disable    []string    `yaml:"disable"`
	Rules      []Rule      `yaml:"rules"`
	Allowlists []Allowlist `yaml:"allowlists"`
}

func parseYAML(b []byte, seen map[string]bool) (*Config, error) {
	var f yamlFile
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("yaml: %w", err)
	}
	c := &Config{Title: f.Title, Format: "seawall", Rules: f.Rules, Allowlists: f.Allowlists}
	var base *Config
	switch strings.ToLower(f.Extends) {
	case "", "none":
	case "default", "seawall":
		if seen["default"] {
			return nil, errors.New("the built-in rules cannot extend themselves")
		}
		var err error
		if base, err = parseYAML(defaultRules, map[string]bool{"default": true}); err != nil {
			return nil, err
		}
	case "gitleaks":
		var err error
		if base, err = gitleaksDefault(); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("extends: unknown rule set %q (use default, gitleaks or none)", f.Extends)
	}
	if base != nil {
		c = merge(base, c, f.Disable)
		c.Format = "seawall"
	} else if len(f.Disable) > 0 {
		return nil, errors.New("disable needs extends: there are no inherited rules to disable")
	}
	return c, nil
}

// merge lays over on top of base: a rule with a known ID replaces fields
// it sets and adds its keywords and allowlists; new rules are appended.
func merge(base, over *Config, disable []string) *Config {
	off := map[string]bool{}
	for _, id := range disable {
		off[id] = true
	}
	out := &Config{Title: over.Title, Format: over.Format}
	idx := map[string]int{}
	for _, r := range base.Rules {
		if off[r.ID] {
			continue
		}
		idx[r.ID] = len(out.Rules)
		out.Rules = append(out.Rules, r)
	}
	for _, r := range over.Rules {
		i, ok := idx[r.ID]
		if !ok {
			idx[r.ID] = len(out.Rules)
			out.Rules = append(out.Rules, r)
			continue
		}
		b := &out.Rules[i]
		if r.Description != "" {
			b.Description = r.Description
		}
		if r.Severity != inventory.SeverityUnknown {
			b.Severity = r.Severity
		}
		if r.Entropy != 0 {
			b.Entropy = r.Entropy
		}
		if r.SecretGroup != 0 {
			b.SecretGroup = r.SecretGroup
		}
		if r.Regex != "" {
			b.Regex = r.Regex
		}
		if r.Path != "" {
			b.Path = r.Path
		}
		b.Tags = append(append([]string(nil), b.Tags...), r.Tags...)
		b.Keywords = append(append([]string(nil), b.Keywords...), r.Keywords...)
		b.Allowlists = append(append([]Allowlist(nil), b.Allowlists...), r.Allowlists...)
		b.Required = append(append([]Required(nil), b.Required...), r.Required...)
		b.SkipReport = b.SkipReport || r.SkipReport
	}
	out.Allowlists = append(append([]Allowlist(nil), over.Allowlists...), base.Allowlists...)
	return out
}

// Validate checks what New would reject, with messages that say which
// rule is wrong and how.
func (c *Config) Validate() error { return c.validate(true) }

// validate checks the configuration; compile says whether to compile the
// regular expressions too (New compiles them anyway).
func (c *Config) validate(compile bool) error {
	var errs []error
	ids := map[string]bool{}
	for i := range c.Rules {
		r := &c.Rules[i]
		if strings.TrimSpace(r.ID) == "" {
			errs = append(errs, fmt.Errorf("rule %d has no id", i+1))
			continue
		}
		if ids[r.ID] {
			errs = append(errs, fmt.Errorf("rule %s is defined twice", r.ID))
		}
		ids[r.ID] = true
		if r.Regex == "" && r.Path == "" {
			errs = append(errs, fmt.Errorf("rule %s: has neither regex nor path, so it can never match", r.ID))
		}
		var re *regexp.Regexp
		if r.Regex != "" && compile {
			var err error
			if re, err = regexp.Compile(r.Regex); err != nil {
				errs = append(errs, fmt.Errorf("rule %s: regex: %v", r.ID, err))
			}
		}
		if r.Path != "" && compile {
			if _, err := regexp.Compile(r.Path); err != nil {
				errs = append(errs, fmt.Errorf("rule %s: path: %v", r.ID, err))
			}
		}
		if r.SecretGroup < 0 || (re != nil && r.SecretGroup > re.NumSubexp()) {
			n := 0
			if re != nil {
				n = re.NumSubexp()
			}
			errs = append(errs, fmt.Errorf("rule %s: secretGroup %d, but the regex has %d groups", r.ID, r.SecretGroup, n))
		}
		if r.Entropy < 0 {
			errs = append(errs, fmt.Errorf("rule %s: negative entropy %g", r.ID, r.Entropy))
		}
		for _, k := range r.Keywords {
			if k == "" {
				errs = append(errs, fmt.Errorf("rule %s: empty keyword", r.ID))
			}
		}
		for j := range r.Allowlists {
			if err := r.Allowlists[j].validate(compile); err != nil {
				errs = append(errs, fmt.Errorf("rule %s: allowlist %d: %w", r.ID, j+1, err))
			}
			if len(r.Allowlists[j].TargetRules) > 0 {
				errs = append(errs, fmt.Errorf("rule %s: allowlist %d: targetRules only belongs in a global allowlist", r.ID, j+1))
			}
		}
	}
	for j := range c.Allowlists {
		a := &c.Allowlists[j]
		if err := a.validate(compile); err != nil {
			errs = append(errs, fmt.Errorf("allowlist %d: %w", j+1, err))
		}
		for _, id := range a.TargetRules {
			if !ids[id] {
				errs = append(errs, fmt.Errorf("allowlist %d: target rule %q does not exist", j+1, id))
			}
		}
	}
	return errors.Join(errs...)
}

func (a *Allowlist) validate(compile bool) error {
	switch strings.ToUpper(a.Condition) {
	case "", "OR", "||", "AND", "&&":
	default:
		return fmt.Errorf("unknown condition %q (use OR or AND)", a.Condition)
	}
	switch a.RegexTarget {
	case "", "secret", "match", "line":
	default:
		return fmt.Errorf("unknown regexTarget %q (use secret, match or line)", a.RegexTarget)
	}
	if len(a.Paths)+len(a.Regexes)+len(a.StopWords)+len(a.Commits) == 0 {
		return errors.New("an allowlist needs at least one of paths, regexes, stopwords or commits")
	}
	if !compile {
		return nil
	}
	for _, p := range a.Paths {
		if _, err := regexp.Compile(p); err != nil {
			return fmt.Errorf("path %q: %v", p, err)
		}
	}
	for _, p := range a.Regexes {
		if _, err := regexp.Compile(p); err != nil {
			return fmt.Errorf("regex %q: %v", p, err)
		}
	}
	return nil
}

func (a *Allowlist) and() bool {
	c := strings.ToUpper(a.Condition)
	return c == "AND" || c == "&&"
}
