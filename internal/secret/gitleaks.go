package secret

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/BurntSushi/toml"

	"github.com/seawall-dev/seawall/internal/inventory"
	"github.com/seawall-dev/seawall/internal/secret/gitleaks"
)

// glConfig is a gitleaks configuration file, as gitleaks v8 reads it.
// TOML keys match field names regardless of case, as with gitleaks' viper.
type glConfig struct {
	Title       string
	Description string
	MinVersion  string
	Extend      struct {
		Path          string
		URL           string
		UseDefault    bool
		DisabledRules []string
	}
	Rules []struct {
		ID          string
		Description string
		Path        string
		Regex       string
		SecretGroup int
		Entropy     float64
		Keywords    []string
		Tags        []string
		// Severity is Seawall's addition; gitleaks ignores it.
		Severity   string
		AllowList  *glAllowlist // deprecated [rules.allowlist]
		Allowlists []*glAllowlist
		Required   []struct {
			ID            string
			WithinLines   *int
			WithinColumns *int
		}
		SkipReport bool
	}
	AllowList  *glAllowlist // deprecated [allowlist]
	Allowlists []*glAllowlist
}

type glAllowlist struct {
	Description string
	Condition   string
	Commits     []string
	Paths       []string
	RegexTarget string
	Regexes     []string
	StopWords   []string
	TargetRules []string
}

// maxExtendDepth is gitleaks' limit on chained [extend]s.
const maxExtendDepth = 2

func gitleaksDefault() (*Config, error) {
	c, err := parseGitleaksDepth(gitleaks.Default, "", maxExtendDepth)
	if err != nil {
		return nil, fmt.Errorf("gitleaks default config: %w", err)
	}
	return c, nil
}

func parseGitleaks(b []byte, dir string) (*Config, error) {
	return parseGitleaksDepth(b, dir, 0)
}

func parseGitleaksDepth(b []byte, dir string, depth int) (*Config, error) {
	var gc glConfig
	md, err := toml.Decode(string(b), &gc)
	if err != nil {
		return nil, fmt.Errorf("toml: %w", err)
	}
	c := &Config{Title: gc.Title, Format: "gitleaks"}
	for _, k := range md.Undecoded() {
		c.warnf("unknown key %q ignored", k.String())
	}
	seen := map[string]int{}
	for i, gr := range gc.Rules {
		r := Rule{
			ID:          gr.ID,
			Description: gr.Description,
			Severity:    inventory.SeverityHigh,
			Keywords:    gr.Keywords,
			Regex:       gr.Regex,
			SecretGroup: gr.SecretGroup,
			Entropy:     gr.Entropy,
			Path:        gr.Path,
			Tags:        gr.Tags,
		}
		if gr.Severity != "" {
			if r.Severity, err = inventory.ParseSeverity(gr.Severity); err != nil {
				return nil, fmt.Errorf("rule %s: %w", gr.ID, err)
			}
		}
		if gr.AllowList != nil {
			if len(gr.Allowlists) > 0 {
				return nil, fmt.Errorf("rule %s: [rules.allowlist] is deprecated and cannot be used alongside [[rules.allowlists]]", gr.ID)
			}
			gr.Allowlists = append(gr.Allowlists, gr.AllowList)
		}
		for j, a := range gr.Allowlists {
			if len(a.TargetRules) > 0 {
				return nil, fmt.Errorf("rule %s: allowlist %d: targetRules only belongs in a global allowlist", gr.ID, j+1)
			}
			r.Allowlists = append(r.Allowlists, a.allowlist())
		}
		for _, req := range gr.Required {
			if req.ID == "" {
				return nil, fmt.Errorf("rule %s: [[rules.required]] rule ID is empty", gr.ID)
			}
			r.Required = append(r.Required, Required{RuleID: req.ID, WithinLines: req.WithinLines, WithinColumns: req.WithinColumns})
		}
		r.SkipReport = gr.SkipReport
		if j, ok := seen[r.ID]; ok && r.ID != "" {
			// gitleaks keeps the last rule of an ID.
			c.warnf("rule %s is defined twice; the later definition (rule %d) wins, as in gitleaks", r.ID, i+1)
			c.Rules[j] = r
			continue
		}
		seen[r.ID] = len(c.Rules)
		c.Rules = append(c.Rules, r)
	}
	if gc.AllowList != nil {
		if len(gc.Allowlists) > 0 {
			return nil, errors.New("[allowlist] is deprecated and cannot be used alongside [[allowlists]]")
		}
		gc.Allowlists = append(gc.Allowlists, gc.AllowList)
	}
	for _, a := range gc.Allowlists {
		c.Allowlists = append(c.Allowlists, a.allowlist())
	}

	// [extend]: a base configuration under this one, as gitleaks merges it.
	if depth < maxExtendDepth {
		ext := gc.Extend
		var base *Config
		switch {
		case ext.Path != "" && ext.UseDefault:
			return nil, errors.New("[extend] sets both path and useDefault; set one")
		case ext.UseDefault:
			if base, err = parseGitleaksDepth(gitleaks.Default, "", depth+1); err != nil {
				return nil, fmt.Errorf("gitleaks default config: %w", err)
			}
		case ext.Path != "":
			// A relative path is tried against the directory of the config
			// file, then against the working directory, where gitleaks
			// looks.
			p := ext.Path
			if !filepath.IsAbs(p) && dir != "" {
				if _, err := os.Stat(filepath.Join(dir, p)); err == nil {
					p = filepath.Join(dir, p)
				}
			}
			eb, err := os.ReadFile(p)
			if err != nil {
				return nil, fmt.Errorf("[extend] path: %w", err)
			}
			// Like gitleaks, resolve every extend of the chain against the
			// same directory (gitleaks uses the working directory).
			if base, err = parseGitleaksDepth(eb, dir, depth+1); err != nil {
				return nil, fmt.Errorf("[extend] %s: %w", ext.Path, err)
			}
		case ext.URL != "":
			c.warnf("[extend] url is not supported (gitleaks ignores it too)")
		}
		if base != nil {
			for _, id := range ext.DisabledRules {
				if !base.hasRule(id) {
					c.warnf("[extend] disabledRules names %q, which the extended config does not have", id)
				}
			}
			warnings := append(c.Warnings, base.Warnings...)
			c = merge(base, c, ext.DisabledRules)
			c.Format, c.Warnings = "gitleaks", warnings
			if c.Title == "" {
				c.Title = gc.Title
			}
		}
	}
	if depth == 0 {
		for _, r := range c.Rules {
			for _, req := range r.Required {
				if !c.hasRule(req.RuleID) {
					return nil, fmt.Errorf("rule %s: [[rules.required]] rule ID %q does not exist", r.ID, req.RuleID)
				}
			}
		}
	}
	return c, nil
}

func (a *glAllowlist) allowlist() Allowlist {
	return Allowlist{
		Description: a.Description,
		Condition:   a.Condition,
		Paths:       a.Paths,
		Regexes:     a.Regexes,
		RegexTarget: a.RegexTarget,
		StopWords:   a.StopWords,
		TargetRules: a.TargetRules,
		Commits:     a.Commits,
	}
}

func (c *Config) hasRule(id string) bool {
	for _, r := range c.Rules {
		if r.ID == id {
			return true
		}
	}
	return false
}

func (c *Config) warnf(format string, args ...any) {
	c.Warnings = append(c.Warnings, fmt.Sprintf(format, args...))
}

// Required is a gitleaks composite rule's condition: the rule reports only
// when a finding of RuleID lies within the given distance.
type Required struct {
	RuleID        string `yaml:"id"`
	WithinLines   *int   `yaml:"withinLines,omitempty"`
	WithinColumns *int   `yaml:"withinColumns,omitempty"`
}
