package waf

import (
	"embed"
	"fmt"
	"regexp"
	"strings"
	"sync"

	"gopkg.in/yaml.v3"
)

//go:embed builtin
var builtinFS embed.FS

// AdminPath is one entry of the admin and infrastructure path guard,
// loaded from builtin/admin-paths.yaml.
type AdminPath struct {
	ID              int      `yaml:"id"`
	Name            string   `yaml:"name"`
	Description     string   `yaml:"description"`
	Segments        []string `yaml:"segments"`
	SegmentPrefixes []string `yaml:"segment_prefixes"`
	SegmentSuffixes []string `yaml:"segment_suffixes"`
	SegmentPatterns []string `yaml:"segment_patterns"`
	Prefixes        []string `yaml:"prefixes"`
	Examples        []string `yaml:"examples"`
	Benign          []string `yaml:"benign"`
}

// pattern returns the entry as one RE2 expression over the cleaned path.
// A segment ends at '/', at ';' (path parameters, as in Tomcat's
// "/manager;x/html") or at the end of the path.
func (a *AdminPath) pattern() string {
	q := func(list []string) string {
		out := make([]string, len(list))
		for i, s := range list {
			out[i] = regexp.QuoteMeta(strings.ToLower(s))
		}
		return strings.Join(out, "|")
	}
	const end = `(?:[/;]|$)`
	var alts []string
	if len(a.Segments) > 0 {
		alts = append(alts, `/(?:`+q(a.Segments)+`)`+end)
	}
	if len(a.SegmentPrefixes) > 0 {
		alts = append(alts, `/(?:`+q(a.SegmentPrefixes)+`)[^/;]*`+end)
	}
	if len(a.SegmentSuffixes) > 0 {
		alts = append(alts, `/[^/;]*(?:`+q(a.SegmentSuffixes)+`)`+end)
	}
	if len(a.SegmentPatterns) > 0 {
		alts = append(alts, `/(?:`+strings.Join(a.SegmentPatterns, "|")+`)`+end)
	}
	if len(a.Prefixes) > 0 {
		alts = append(alts, `^(?:/;[^/]*)*(?:`+q(a.Prefixes)+`)`+end)
	}
	return `(?i)(?:` + strings.Join(alts, "|") + `)`
}

var (
	adminOnce  sync.Once
	adminPaths []AdminPath
	adminErr   error
)

// AdminPaths returns the built-in admin path list.
func AdminPaths() ([]AdminPath, error) {
	adminOnce.Do(func() {
		data, err := builtinFS.ReadFile("builtin/admin-paths.yaml")
		if err != nil {
			adminErr = err
			return
		}
		if err := yaml.Unmarshal(data, &adminPaths); err != nil {
			adminErr = fmt.Errorf("builtin/admin-paths.yaml: %w", err)
			return
		}
		seen := map[int]bool{}
		for _, a := range adminPaths {
			if a.ID < idAdminFirst || a.ID > idAdminLast || seen[a.ID] {
				adminErr = fmt.Errorf("builtin/admin-paths.yaml: %s: ID %d is outside %d-%d or repeated", a.Name, a.ID, idAdminFirst, idAdminLast)
				return
			}
			seen[a.ID] = true
			if _, err := regexp.Compile(a.pattern()); err != nil {
				adminErr = fmt.Errorf("builtin/admin-paths.yaml: %s: %w", a.Name, err)
				return
			}
		}
	})
	return adminPaths, adminErr
}

// adminPathRules returns the guard as SecLang rules. They run in phase 1
// with an immediate deny, not through anomaly scoring: these paths have no
// business reaching the application from outside.
func adminPathRules() (string, error) {
	list, err := AdminPaths()
	if err != nil {
		return "", err
	}
	var b strings.Builder
	for _, a := range list {
		fmt.Fprintf(&b, "SecRule REQUEST_FILENAME \"@rx %s\" \"id:%d,phase:1,deny,status:403,log,t:none,t:urlDecodeUni,t:normalizePath,"+
			"msg:'Seawall: admin or infrastructure path probe (%s)',logdata:'%%{MATCHED_VAR}',"+
			"tag:'seawall',tag:'seawall/admin-path',tag:'seawall/%s',severity:'CRITICAL'\"\n",
			quoteArg(a.pattern()), a.ID, a.Name, a.Name)
	}
	return b.String(), nil
}
