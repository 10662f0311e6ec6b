package report

import (
	"cmp"
	"slices"
	"strconv"
	"strings"

	"github.com/seawall-dev/seawall/internal/inventory"
)

// What this file holds is shared by the formats for the findings that are
// not vulnerabilities: secrets, malware and misconfigurations. They have
// no package; they are reported by kind, then by where they are.

// kindOrder is the order reports show the kinds in.
var kindOrder = []string{inventory.KindVulnerability, inventory.KindSecret, inventory.KindMalware, inventory.KindMisconfiguration}

// isVuln reports whether f is a vulnerability (the kind findings had
// before there were others).
func isVuln(f *inventory.Finding) bool {
	return f.Kind == "" || f.Kind == inventory.KindVulnerability
}

// kinds are the finding kinds the scan looked for, in report order.
func (o ReportOptions) kinds() []string {
	if len(o.Kinds) == 0 {
		return []string{inventory.KindVulnerability}
	}
	var out []string
	for _, k := range kindOrder {
		if slices.Contains(o.Kinds, k) {
			out = append(out, k)
		}
	}
	return out
}

// looked reports whether the scan looked for findings of kind.
func (o ReportOptions) looked(kind string) bool { return slices.Contains(o.kinds(), kind) }

// legacy reports whether the report is a vulnerability scan as it was
// before the other kinds existed, so that its output stays the same.
func (o ReportOptions) legacy() bool {
	k := o.kinds()
	return len(k) == 1 && k[0] == inventory.KindVulnerability
}

// kindNoun names n findings of a kind: "2 secrets", "1 malware finding".
func kindNoun(kind string, n int) string {
	switch kind {
	case inventory.KindVulnerability:
		return plural(n, "vulnerability")
	case inventory.KindSecret:
		return plural(n, "secret")
	case inventory.KindMalware:
		return plural(n, "malware finding")
	case inventory.KindMisconfiguration:
		return plural(n, "misconfiguration")
	}
	return plural(n, kind+" finding")
}

// kindTitle heads a kind's section.
func kindTitle(kind string) string {
	switch kind {
	case inventory.KindVulnerability:
		return "Vulnerabilities"
	case inventory.KindSecret:
		return "Secrets"
	case inventory.KindMalware:
		return "Malware"
	case inventory.KindMisconfiguration:
		return "Misconfigurations"
	}
	return upperFirst(kind)
}

// kindGroup is the findings of one kind, in report order.
type kindGroup struct {
	kind     string
	findings []*inventory.Finding
	tally
}

// riskView is a report's secrets, malware and misconfigurations in the
// order every format shows them: by kind, most severe first, then by
// path, line and layer.
type riskView struct {
	findings []inventory.Finding // a sorted copy; r is not modified
	groups   []*kindGroup        // one per kind looked for or found, vulnerabilities excepted
	byKind   map[string]*kindGroup
	tally
}

func newRiskView(r *inventory.Report, opts ReportOptions) *riskView {
	v := &riskView{byKind: map[string]*kindGroup{}}
	for i := range r.Findings {
		if !isVuln(&r.Findings[i]) {
			v.findings = append(v.findings, r.Findings[i])
		}
	}
	rank := func(k string) int {
		if i := slices.Index(kindOrder, k); i >= 0 {
			return i
		}
		return len(kindOrder)
	}
	slices.SortStableFunc(v.findings, func(a, b inventory.Finding) int {
		return cmp.Or(
			cmp.Compare(rank(a.Kind), rank(b.Kind)),
			strings.Compare(a.Kind, b.Kind),
			cmp.Compare(clampSeverity(b.Severity), clampSeverity(a.Severity)),
			strings.Compare(a.Location.Path, b.Location.Path),
			cmp.Compare(a.Line, b.Line),
			cmp.Compare(a.Location.LayerIndex, b.Location.LayerIndex),
			strings.Compare(a.ID, b.ID),
			strings.Compare(a.Snippet, b.Snippet),
			strings.Compare(a.Details, b.Details),
		)
	})
	group := func(k string) *kindGroup {
		g, ok := v.byKind[k]
		if !ok {
			g = &kindGroup{kind: k}
			v.byKind[k] = g
		}
		return g
	}
	for _, k := range opts.kinds() {
		if k != inventory.KindVulnerability {
			group(k)
		}
	}
	for i := range v.findings {
		f := &v.findings[i]
		g := group(f.Kind)
		g.findings = append(g.findings, f)
		g.add(f)
		v.add(f)
	}
	for _, k := range kindOrder {
		if g, ok := v.byKind[k]; ok {
			v.groups = append(v.groups, g)
		}
	}
	var other []string
	for k := range v.byKind {
		if !slices.Contains(kindOrder, k) {
			other = append(other, k)
		}
	}
	slices.Sort(other)
	for _, k := range other {
		v.groups = append(v.groups, v.byKind[k])
	}
	return v
}

// whereText says where a finding is: "/app/.env:3", "/usr/bin/x",
// "image config", "image history:4".
func whereText(f *inventory.Finding) string {
	p := f.Location.Path
	if p == "" {
		p = "—"
	}
	if f.Line > 0 {
		p += ":" + strconv.Itoa(f.Line)
	}
	return p
}

// layerText is the finding's layer for a table: its index, and whether a
// later layer deleted the file.
func layerText(f *inventory.Finding) string {
	if f.Location.LayerDiffID == "" && f.Location.LayerDigest == "" {
		if f.Hidden {
			return "deleted later"
		}
		return ""
	}
	s := strconv.Itoa(f.Location.LayerIndex)
	if f.Hidden {
		s += " (deleted later)"
	}
	return s
}

// firstLine is the first line of s.
func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}

// messageText is what a non-vulnerability finding says: the first line
// of its details, or its title.
func messageText(f *inventory.Finding) string {
	if m := firstLine(f.Details); m != "" {
		return m
	}
	return f.Title
}

// kindCountsLine is "2 secrets (CRITICAL: 1, …), 1 suppressed".
func kindCountsLine(kind string, t *tally, opts ReportOptions) string {
	s := kindNoun(kind, t.active.total()) + " (" + countsText(&t.active, opts) + ")"
	if t.suppressed > 0 {
		s += ", " + strconv.Itoa(t.suppressed) + " suppressed"
	}
	if t.withdrawn > 0 {
		s += ", " + strconv.Itoa(t.withdrawn) + " withdrawn"
	}
	return s
}
