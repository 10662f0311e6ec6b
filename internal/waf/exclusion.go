package waf

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Route selects requests by path and method. An empty Route selects every
// request. Paths are compared after URL decoding and dot-segment removal,
// so "/api/../admin" does not fall under an exclusion for "/api/".
type Route struct {
	Path       string   `yaml:"path,omitempty"`        // exact path
	PathPrefix string   `yaml:"path_prefix,omitempty"` // path prefix
	PathRegex  string   `yaml:"path_regex,omitempty"`  // RE2 regular expression
	Methods    []string `yaml:"methods,omitempty"`

	re *regexp.Regexp
}

func (r *Route) validate() error {
	n := 0
	for _, s := range []string{r.Path, r.PathPrefix, r.PathRegex} {
		if s != "" {
			n++
		}
	}
	if n > 1 {
		return errors.New("give only one of path, path_prefix and path_regex")
	}
	if (r.Path != "" && !strings.HasPrefix(r.Path, "/")) || (r.PathPrefix != "" && !strings.HasPrefix(r.PathPrefix, "/")) {
		return errors.New("path and path_prefix start with /")
	}
	if strings.ContainsAny(r.Path+r.PathPrefix, "\" \t\r\n\\") {
		return errors.New("path and path_prefix hold no quotes, spaces or backslashes")
	}
	if r.PathRegex != "" {
		re, err := regexp.Compile(r.PathRegex)
		if err != nil {
			return fmt.Errorf("path_regex: %v", err)
		}
		r.re = re
	}
	for _, m := range r.Methods {
		if m == "" || strings.ToUpper(m) != m || strings.ContainsAny(m, " \t\"'") {
			return fmt.Errorf("method %q: write methods in capitals, such as POST", m)
		}
	}
	return nil
}

// match reports whether a request, with its path already cleaned by
// cleanPath, falls under the route.
func (r *Route) match(method, cleaned string) bool {
	if len(r.Methods) > 0 {
		ok := false
		for _, m := range r.Methods {
			ok = ok || m == method
		}
		if !ok {
			return false
		}
	}
	switch {
	case r.Path != "":
		return cleaned == r.Path
	case r.PathPrefix != "":
		return strings.HasPrefix(cleaned, r.PathPrefix)
	case r.PathRegex != "":
		if r.re == nil {
			r.re = regexp.MustCompile(r.PathRegex)
		}
		return r.re.MatchString(cleaned)
	}
	return true
}

// seclang returns the chain of SecRule conditions that select the route,
// with ctl placed on the last link. Coraza's REQUEST_FILENAME is the raw
// path, so the same decoding and normalisation as cleanPath is applied.
func (r *Route) seclang(id int, ctl string) string {
	var conds []string
	pathT := `t:none,t:urlDecodeUni,t:normalizePath`
	switch {
	case r.Path != "":
		conds = append(conds, fmt.Sprintf(`REQUEST_FILENAME "@streq %s" "%s`, r.Path, pathT))
	case r.PathPrefix != "":
		conds = append(conds, fmt.Sprintf(`REQUEST_FILENAME "@beginsWith %s" "%s`, r.PathPrefix, pathT))
	case r.PathRegex != "":
		conds = append(conds, fmt.Sprintf(`REQUEST_FILENAME "@rx %s" "%s`, quoteArg(r.PathRegex), pathT))
	}
	if len(r.Methods) > 0 {
		conds = append(conds, fmt.Sprintf(`REQUEST_METHOD "@within %s" "t:none`, strings.Join(r.Methods, " ")))
	}
	if len(conds) == 0 {
		return fmt.Sprintf("SecAction \"id:%d,phase:1,pass,nolog,%s\"\n", id, ctl)
	}
	var b strings.Builder
	for i, c := range conds {
		b.WriteString("SecRule ")
		b.WriteString(c)
		if i == 0 {
			fmt.Fprintf(&b, ",id:%d,phase:1,pass,nolog", id)
		}
		if i < len(conds)-1 {
			b.WriteString(",chain\"\n    ")
		} else {
			b.WriteString("," + ctl + "\"\n")
		}
	}
	return b.String()
}

// quoteArg makes a regular expression safe inside a double-quoted SecLang
// operator, which the engine takes verbatim up to the closing quote.
func quoteArg(s string) string {
	return strings.ReplaceAll(s, `"`, `\x22`)
}

// cleanPath decodes a request path and removes dot segments and repeated
// slashes, as normalizePath does in the engine.
func cleanPath(raw string) string {
	p := raw
	if i := strings.IndexAny(p, "?#"); i >= 0 {
		p = p[:i]
	}
	if dec, err := pathUnescape(p); err == nil {
		p = dec
	}
	p = strings.ReplaceAll(p, `\`, "/")
	if p == "" {
		return "/"
	}
	c := path.Clean("/" + p)
	if strings.HasSuffix(p, "/") && c != "/" {
		c += "/"
	}
	return c
}

// pathUnescape decodes %XX escapes (and %uXXXX, as IIS does) without
// treating '+' as a space.
func pathUnescape(s string) (string, error) {
	if !strings.Contains(s, "%") {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '%' {
			b.WriteByte(c)
			continue
		}
		if i+5 < len(s) && (s[i+1] == 'u' || s[i+1] == 'U') {
			if v, err := strconv.ParseUint(s[i+2:i+6], 16, 16); err == nil {
				b.WriteRune(rune(v))
				i += 5
				continue
			}
		}
		if i+2 < len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+3], 16, 8); err == nil {
				b.WriteByte(byte(v))
				i += 2
				continue
			}
		}
		b.WriteByte(c)
	}
	return b.String(), nil
}

// Exclusion switches rules off for a route, or for some parameters only,
// to fix a false positive.
type Exclusion struct {
	Name  string `yaml:"name"`
	Route `yaml:",inline"`
	// RuleIDs are rule IDs or ranges ("942100", "942100-942199").
	RuleIDs []string `yaml:"rule_ids,omitempty"`
	// Tags select rules by tag, such as "attack-sqli".
	Tags []string `yaml:"tags,omitempty"`
	// Parameters limit the exclusion to these request parts: a bare name
	// means ARGS:name; a target such as REQUEST_COOKIES:session,
	// REQUEST_HEADERS:User-Agent or a whole collection (ARGS_NAMES) is used
	// as written.
	Parameters []string `yaml:"parameters,omitempty"`
}

var bareCollectionRe = regexp.MustCompile(`^(?:ARGS|ARGS_GET|ARGS_POST|ARGS_NAMES|ARGS_GET_NAMES|ARGS_POST_NAMES|REQUEST_COOKIES|REQUEST_COOKIES_NAMES|REQUEST_HEADERS|REQUEST_HEADERS_NAMES|REQUEST_BODY|XML|FILES|FILES_NAMES)$`)

var targetRe = regexp.MustCompile(`^[A-Z_]+(:[^;,"' ]+)?$`)

func (e *Exclusion) validate() error {
	if err := e.Route.validate(); err != nil {
		return err
	}
	if len(e.RuleIDs) == 0 && len(e.Tags) == 0 {
		return errors.New("give rule_ids or tags to exclude")
	}
	for _, id := range e.RuleIDs {
		if _, _, err := parseIDRange(id); err != nil {
			return err
		}
	}
	for _, t := range e.Tags {
		if t == "" || strings.ContainsAny(t, ` "';,`) {
			return fmt.Errorf("tag %q: no spaces, quotes, commas or semicolons", t)
		}
	}
	for _, p := range e.Parameters {
		if p == "" || strings.ContainsAny(p, ` "';,`) {
			return fmt.Errorf("parameter %q: no spaces, quotes, commas or semicolons", p)
		}
		if strings.Contains(p, ":") && !targetRe.MatchString(p) {
			return fmt.Errorf("parameter %q: write a target as COLLECTION:name, such as ARGS:q", p)
		}
	}
	return nil
}

// target returns the engine target a Parameters entry names.
func target(p string) string {
	if strings.Contains(p, ":") || bareCollectionRe.MatchString(p) {
		return p
	}
	return "ARGS:" + p
}

// ctl returns the ctl actions that carry out the exclusion.
func (e *Exclusion) ctl() string {
	var acts []string
	if len(e.Parameters) == 0 {
		for _, id := range e.RuleIDs {
			acts = append(acts, "ctl:ruleRemoveById="+id)
		}
		if e.covers(idBodyLimit) {
			// No size limit on this route means no buffering for
			// inspection either: bodies stream to the upstream as they come.
			acts = append(acts, "ctl:requestBodyAccess=Off")
		}
		for _, t := range e.Tags {
			acts = append(acts, "ctl:ruleRemoveByTag="+t)
		}
	} else {
		for _, p := range e.Parameters {
			for _, id := range e.RuleIDs {
				lo, hi, _ := parseIDRange(id)
				for n := lo; n <= hi && n-lo < 1000; n++ {
					acts = append(acts, fmt.Sprintf("ctl:ruleRemoveTargetById=%d;%s", n, target(p)))
				}
			}
			for _, t := range e.Tags {
				acts = append(acts, fmt.Sprintf("ctl:ruleRemoveTargetByTag=%s;%s", t, target(p)))
			}
		}
	}
	return strings.Join(acts, ",")
}

// covers reports whether the exclusion turns off a rule for a whole
// request, as the Go-side guards need to know.
func (e *Exclusion) covers(id int) bool {
	if len(e.Parameters) > 0 {
		return false
	}
	for _, r := range e.RuleIDs {
		lo, hi, _ := parseIDRange(r)
		if id >= lo && id <= hi {
			return true
		}
	}
	return false
}

// parseIDRange parses "942100" or "942100-942199".
func parseIDRange(s string) (int, int, error) {
	lo, hi, isRange := strings.Cut(strings.TrimSpace(s), "-")
	a, err := strconv.Atoi(lo)
	if err != nil || a < 1 {
		return 0, 0, fmt.Errorf("rule ID %q: use a number such as 942100 or a range such as 942100-942199", s)
	}
	if !isRange {
		return a, a, nil
	}
	b, err := strconv.Atoi(hi)
	if err != nil || b < a {
		return 0, 0, fmt.Errorf("rule ID range %q: use LOW-HIGH, such as 942100-942199", s)
	}
	return a, b, nil
}

// exclusionFile is the layout of an --exclusions file.
type exclusionFile struct {
	Exclusions []Exclusion `yaml:"exclusions"`
}

// LoadExclusions reads an exclusions file.
func LoadExclusions(file string) ([]Exclusion, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("exclusions: %w", err)
	}
	var f exclusionFile
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("exclusions %s: %w", file, err)
	}
	for i := range f.Exclusions {
		if err := f.Exclusions[i].validate(); err != nil {
			return nil, fmt.Errorf("exclusions %s: entry %d (%s): %w", file, i+1, f.Exclusions[i].Name, err)
		}
	}
	return f.Exclusions, nil
}
