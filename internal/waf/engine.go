package waf

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	coreruleset "github.com/corazawaf/coraza-coreruleset/v4"
	"github.com/corazawaf/coraza/v3"
	"github.com/corazawaf/coraza/v3/types"
)

// ErrRules is wrapped by every error about rules that do not load.
var ErrRules = errors.New("waf rules failed to load")

// baseDirectives are the engine settings Seawall runs with, after Coraza's
// recommended configuration (coraza.conf-recommended, Apache-2.0). Body
// limits, modes and MIME types are filled in from Config.
const baseDirectives = `
SecRuleEngine %s
SecRequestBodyAccess On
SecRequestBodyLimit %d
SecRequestBodyInMemoryLimit %d
SecRequestBodyLimitAction Reject
SecRequestBodyJsonDepthLimit 1024
SecArgumentsLimit 1000
SecResponseBodyAccess %s
SecResponseBodyMimeType %s
SecResponseBodyLimit %d
SecResponseBodyLimitAction ProcessPartial
SecResponseBodyJsonDepthLimit 1024
SecAuditEngine Off
SecRxPreFilter %s
SecDataDir %s
SecDefaultAction "phase:3,log,auditlog,pass"
SecDefaultAction "phase:4,log,auditlog,pass"
SecDefaultAction "phase:5,log,auditlog,pass"

SecRule REQUEST_HEADERS:Content-Type "^(?:application(?:/soap\+|/)|text/)xml" \
    "id:200000,phase:1,t:none,t:lowercase,pass,nolog,ctl:requestBodyProcessor=XML"
SecRule REQUEST_HEADERS:Content-Type "^application/json" \
    "id:200001,phase:1,t:none,t:lowercase,pass,nolog,ctl:requestBodyProcessor=JSON"
SecRule REQUEST_HEADERS:Content-Type "^application/[a-z0-9.-]+[+]json" \
    "id:200006,phase:1,t:none,t:lowercase,pass,nolog,ctl:requestBodyProcessor=JSON"
SecRule URI_PARSE_ERROR "@eq 1" \
    "id:200009,phase:1,t:none,log,deny,status:400,msg:'URI failed to parse.'"
SecRule REQBODY_ERROR "!@eq 0" \
    "id:200002,phase:2,t:none,log,deny,status:400,msg:'Failed to parse request body.',logdata:'%%{reqbody_error_msg}',severity:2"
SecRule MULTIPART_STRICT_ERROR "!@eq 0" \
    "id:200003,phase:2,t:none,log,deny,status:400,msg:'Multipart request body failed strict validation.'"
SecRule ARGUMENTS_LIMIT_REACHED "@eq 1" \
    "id:200004,phase:1,t:none,log,deny,status:400,msg:'Argument limit reached; request rejected (GET/PATH args)'"
SecRule ARGUMENTS_LIMIT_REACHED "@eq 1" \
    "id:200005,phase:2,t:none,log,deny,status:400,msg:'Argument limit reached; request rejected (POST args)'"
`

// settingsDirective sets the CRS paranoia level and anomaly thresholds. It
// runs before the CRS initialisation rules, which only fill in values that
// are not set yet, so these win; a pass-through file can still override.
const settingsDirective = `SecAction "id:%d,phase:1,pass,nolog,t:none,` +
	`setvar:tx.blocking_paranoia_level=%d,setvar:tx.detection_paranoia_level=%d,` +
	`setvar:tx.inbound_anomaly_score_threshold=%d,setvar:tx.outbound_anomaly_score_threshold=%d"
`

// markerDirective logs the value of a header as a marker line, so that a
// test harness (go-ftw in log mode) can find each test's events.
const markerDirective = `SecRule REQUEST_HEADERS:%s "@rx ^.*$" "id:%d,phase:1,pass,log,t:none,msg:'%s %%{MATCHED_VAR}'"
`

// ruleSet is the directive text for one build, in load order.
type ruleSet struct {
	parts []rulePart
	token string // SSRF guard registration, released after parsing
}

type rulePart struct {
	name string // for error messages: where the directives came from
	text string
	file string // set for pass-through files: loaded by path
}

// rxPrefilter is Coraza's literal prefilter for @rx (SecRxPreFilter). It
// configures Coraza's own @rx operator, which Seawall replaces (rx.go), so
// it has no effect; it is kept Off explicitly because in Coraza v3.8.1 its
// trie reconstruction glues a shared prefix onto literals that are not
// adjacent to it (for "/(?:my(?:admin|sqladmin)|db(?:admin|-admin))" it
// requires "/admin"), so it skips rules that should match.
const rxPrefilter = "Off"

// buildRules assembles the directives: engine settings, Seawall settings,
// pass-through files meant to run before the CRS, exclusions, built-in
// guards, the CRS, then pass-through files meant to run after it.
func buildRules(cfg *Config, g *ssrfGuard) (*ruleSet, error) {
	rs := &ruleSet{}
	add := func(name, text string) { rs.parts = append(rs.parts, rulePart{name: name, text: text}) }

	engine := "On"
	if cfg.Mode == ModeDetect {
		engine = "DetectionOnly"
	}
	respAccess := "Off"
	if cfg.InspectResponses {
		respAccess = "On"
	}
	add("base settings", fmt.Sprintf(baseDirectives, engine, cfg.MaxBodyBytes, cfg.BodyInMemoryBytes,
		respAccess, strings.Join(cfg.ResponseMIMETypes, " "), cfg.ResponseBodyBytes, rxPrefilter, os.TempDir()))
	add("paranoia and anomaly settings", fmt.Sprintf(settingsDirective, idSettings, cfg.Paranoia, cfg.Paranoia, cfg.AnomalyInbound, cfg.AnomalyOutbound))
	if cfg.LogMarkerHeader != "" {
		add("log marker", fmt.Sprintf(markerDirective, cfg.LogMarkerHeader, idMarker, cfg.LogMarkerHeader))
	}

	before, after, err := passThroughFiles(cfg.RulesDir)
	if err != nil {
		return nil, err
	}
	for _, f := range before {
		rs.parts = append(rs.parts, rulePart{name: f, file: f})
	}

	var ex strings.Builder
	for i := range cfg.Exclusions {
		e := &cfg.Exclusions[i]
		if ctl := e.ctl(); ctl != "" {
			fmt.Fprintf(&ex, "# exclusion %d: %s\n", i+1, e.Name)
			ex.WriteString(e.Route.seclang(idExclFirst+i, ctl))
		}
	}
	add("exclusions", ex.String())

	if cfg.AdminPaths {
		text, err := adminPathRules()
		if err != nil {
			return nil, err
		}
		add("admin path guard", text)
	}
	if cfg.SSRF.Enabled {
		text, token := ssrfRules(g)
		rs.token = token
		add("SSRF guard", text)
	}

	add("CRS", "Include @crs-setup.conf.example\nInclude @owasp_crs/*.conf\n")
	for _, f := range after {
		rs.parts = append(rs.parts, rulePart{name: f, file: f})
	}
	if len(cfg.DisabledRules) > 0 {
		var b strings.Builder
		for _, id := range cfg.DisabledRules {
			fmt.Fprintf(&b, "SecRuleRemoveById %s\n", strings.TrimSpace(id))
		}
		add("disabled_rules", b.String())
	}
	return rs, nil
}

// passThroughFiles lists the *.conf files of the rules directory, split
// into those loaded before the CRS and those loaded after it.
func passThroughFiles(dir string) (before, after []string, err error) {
	if dir == "" {
		return nil, nil, nil
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.conf"))
	if err != nil {
		return nil, nil, err
	}
	if _, err := os.Stat(dir); err != nil {
		return nil, nil, fmt.Errorf("%w: rules directory: %v", ErrRules, err)
	}
	sort.Strings(files)
	for _, f := range files {
		abs, err := filepath.Abs(f)
		if err != nil {
			return nil, nil, err
		}
		if strings.Contains(strings.ToLower(filepath.Base(f)), "after-crs") {
			after = append(after, abs)
		} else {
			before = append(before, abs)
		}
	}
	return before, after, nil
}

// newCoraza parses the rule set into an engine. onMatch receives every
// rule match that is to be logged.
func newCoraza(rs *ruleSet, onMatch func(types.MatchedRule)) (coraza.WAF, error) {
	defer func() {
		if rs.token != "" {
			ssrfGuards.Delete(rs.token)
		}
	}()
	conf := coraza.NewWAFConfig().WithRootFS(rootFS{}).WithErrorCallback(onMatch)
	for _, p := range rs.parts {
		if p.file != "" {
			conf = conf.WithDirectivesFromFile(p.file)
		} else {
			conf = conf.WithDirectives(p.text)
		}
	}
	w, err := coraza.NewWAF(conf)
	if err != nil {
		return nil, fmt.Errorf("%w: %s%v", ErrRules, culprit(rs), err)
	}
	return w, nil
}

// culprit names the pass-through file that fails to parse on its own, if
// one does, since the engine's error does not say which file it was in.
func culprit(rs *ruleSet) string {
	for _, p := range rs.parts {
		if p.file == "" {
			continue
		}
		if _, err := coraza.NewWAF(coraza.NewWAFConfig().WithRootFS(rootFS{}).WithDirectivesFromFile(p.file)); err != nil {
			return p.file + ": "
		}
	}
	return ""
}

// rootFS serves the embedded CRS for names under @owasp_crs or
// @crs-setup, and the operating system's files for everything else, so
// that pass-through files can be loaded by path and can themselves include
// CRS files.
type rootFS struct{}

func isCRSName(name string) bool { return strings.Contains(name, "@") }

func (rootFS) Open(name string) (fs.File, error) {
	if isCRSName(name) {
		return coreruleset.FS.Open(name[strings.Index(name, "@"):])
	}
	return os.Open(name)
}

func (rootFS) ReadFile(name string) ([]byte, error) {
	if isCRSName(name) {
		return fs.ReadFile(coreruleset.FS, name)
	}
	return os.ReadFile(name)
}

func (rootFS) ReadDir(name string) ([]fs.DirEntry, error) {
	if isCRSName(name) {
		return fs.ReadDir(coreruleset.FS, name[strings.Index(name, "@"):])
	}
	return os.ReadDir(name)
}

func (rootFS) Glob(pattern string) ([]string, error) {
	if isCRSName(pattern) {
		return fs.Glob(coreruleset.FS, pattern[strings.Index(pattern, "@"):])
	}
	return filepath.Glob(pattern)
}

// ctxKey keys the per-request match collector in the context.
type ctxKey struct{}

// collector gathers the rule matches of one request.
type collector struct {
	matches []types.MatchedRule
}

// collect is the engine's error callback: it files each match with the
// request it belongs to, found through the transaction's context.
func collect(mr types.MatchedRule) {
	c, ok := mr.(interface{ Context() context.Context })
	if !ok || c.Context() == nil {
		return
	}
	if col, ok := c.Context().Value(ctxKey{}).(*collector); ok {
		col.matches = append(col.matches, mr)
	}
}
