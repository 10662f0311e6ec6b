package report

import (
	"encoding/xml"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/seawall-dev/seawall/internal/inventory"
)

// JUnit XML as Jenkins' JUnit plugin reads it (and GitLab's test reports):
// one testsuite per target, as the table groups findings; in it one
// failing testcase per active finding, one skipped testcase per
// suppressed or withdrawn finding, and one passing testcase per package
// without findings (skipped when the database does not cover its
// ecosystem). A finding is its own testcase so that Jenkins tracks each
// vulnerability's age across builds and lists each on its own line.
//
// Jenkins splits a classname at its last dot into package and class, so
// the classname is "<target>.<package name>" with the dots inside each part
// replaced by "_": the tree then reads target → package → vulnerability.

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Time       string          `xml:"time,attr"`
	Timestamp  string          `xml:"timestamp,attr,omitempty"`
	Properties []junitProperty `xml:"properties>property,omitempty"`
	Cases      []junitCase     `xml:"testcase"`
	SystemOut  *junitOutput    `xml:"system-out,omitempty"`
}

type junitOutput struct {
	Text string `xml:",cdata"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitFailure `xml:"failure,omitempty"`
	Skipped   *junitSkipped `xml:"skipped,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",cdata"`
}

type junitSkipped struct {
	Message string `xml:"message,attr"`
}

// jenkinsName keeps a classname part from being split by Jenkins.
func jenkinsName(s string) string {
	return strings.ReplaceAll(clean(s), ".", "_")
}

func writeJUnit(w io.Writer, r *inventory.Report, meta Meta, opts ReportOptions) error {
	v := newVulnView(r)
	stamp := meta.Created.UTC().Format("2006-01-02T15:04:05")

	suites := map[target]*junitSuite{}
	var order []target
	suite := func(t target) *junitSuite {
		s, ok := suites[t]
		if !ok {
			s = &junitSuite{Name: clean(t.label()), Time: "0", Timestamp: stamp}
			s.Properties = []junitProperty{{Name: "target", Value: clean(t.name)}, {Name: "type", Value: t.typ}}
			suites[t] = s
			order = append(order, t)
		}
		return s
	}
	classname := func(t target, pkg string) string {
		return jenkinsName(t.label()) + "." + jenkinsName(pkg)
	}

	withFindings := make(map[string]bool)
	for _, g := range v.groups {
		s := suite(g.target)
		for _, f := range g.findings {
			withFindings[f.PackageID] = true
			c := junitCase{
				Name:      clean(f.ID) + " [" + clampSeverity(f.Severity).String() + "]",
				Classname: classname(g.target, f.PackageName),
				Time:      "0",
			}
			switch {
			case f.Suppression != nil:
				c.Skipped = &junitSkipped{Message: suppressionText(f.Suppression)}
			case f.Status == inventory.StatusWithdrawn:
				c.Skipped = &junitSkipped{Message: "the advisory was withdrawn"}
			default:
				c.Failure = &junitFailure{Message: junitMessage(f), Type: clampSeverity(f.Severity).String(), Text: junitDetails(f, r.Source)}
			}
			s.Cases = append(s.Cases, c)
		}
	}

	// Packages without findings pass, unless nothing was checked for them.
	var pkgs []docPackage
	if opts.looked(inventory.KindVulnerability) {
		pkgs = documentPackages(&r.Inventory)
	}
	for _, p := range pkgs {
		if withFindings[p.ID] {
			continue
		}
		t := packageTarget(p.Package, r.Distro)
		c := junitCase{Name: "no known vulnerabilities", Classname: classname(t, fullName(p.Package)), Time: "0"}
		if cov, ok := notCovered(p.Package, r); ok {
			c.Name = "not checked"
			c.Skipped = &junitSkipped{Message: "the vulnerability database covers no " + cov.Ecosystem + " packages" + suffix(": ", cov.Reason)}
		}
		suite(t).Cases = append(suite(t).Cases, c)
	}
	slices.SortStableFunc(order, compareTargets)

	doc := junitSuites{Name: "Seawall: " + clean(subjectName(r)), Time: "0"}
	for _, t := range order {
		s := suites[t]
		for _, c := range s.Cases {
			s.Tests++
			switch {
			case c.Failure != nil:
				s.Failures++
			case c.Skipped != nil:
				s.Skipped++
			}
		}
		doc.Suites = append(doc.Suites, *s)
	}
	for _, g := range newRiskView(r, opts).groups {
		doc.Suites = append(doc.Suites, junitRiskSuite(g, r, stamp))
	}
	if len(doc.Suites) == 0 {
		// Jenkins fails a build whose reports hold no test at all.
		doc.Suites = []junitSuite{{Name: clean(subjectName(r)), Time: "0", Timestamp: stamp,
			Cases: []junitCase{{Name: "no packages found", Classname: "seawall", Time: "0"}}, Tests: 1}}
	}
	var out []string
	if opts.looked(inventory.KindVulnerability) {
		out = append(out, upperFirst(dbText(r.DB, meta))+".")
	}
	for _, c := range r.NotCovered {
		out = append(out, "Not checked: "+coverageText(c)+".")
	}
	out = append(out, opts.Notices...)
	if s := filterText(opts); s != "" {
		out = append(out, "Filters: "+s+".")
	}
	for i := range out {
		out[i] = clean(out[i])
	}
	doc.Suites[0].SystemOut = &junitOutput{Text: strings.Join(out, "\n") + "\n"}
	for _, s := range doc.Suites {
		doc.Tests += s.Tests
		doc.Failures += s.Failures
		doc.Skipped += s.Skipped
	}

	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// junitRiskSuite is one suite for the secrets, malware or
// misconfigurations: a testcase per finding, named by ID, severity and
// place, in a class per file; or one passing testcase when none was found.
func junitRiskSuite(g *kindGroup, r *inventory.Report, stamp string) junitSuite {
	title := kindTitle(g.kind)
	s := junitSuite{Name: title, Time: "0", Timestamp: stamp, Properties: []junitProperty{{Name: "kind", Value: g.kind}}}
	for _, f := range g.findings {
		where := f.Location.Path
		if where == "" {
			where = subjectName(r)
		}
		c := junitCase{
			Name:      clean(f.ID) + " [" + clampSeverity(f.Severity).String() + "] " + clean(whereText(f)),
			Classname: jenkinsName(title) + "." + jenkinsName(where),
			Time:      "0",
		}
		switch {
		case f.Suppression != nil:
			c.Skipped = &junitSkipped{Message: suppressionText(f.Suppression)}
		case f.Status == inventory.StatusWithdrawn:
			c.Skipped = &junitSkipped{Message: "withdrawn"}
		default:
			msg := clean(fmt.Sprintf("%s (%s) at %s: %s", f.ID, clampSeverity(f.Severity), whereText(f), truncate(messageText(f), 200)))
			c.Failure = &junitFailure{Message: msg, Type: clampSeverity(f.Severity).String(), Text: junitRiskDetails(f, r.Source)}
		}
		s.Cases = append(s.Cases, c)
	}
	if len(s.Cases) == 0 {
		s.Cases = []junitCase{{Name: "no " + strings.ToLower(title) + " found", Classname: jenkinsName(title) + "." + jenkinsName(subjectName(r)), Time: "0"}}
		if g.kind == inventory.KindMalware {
			s.Cases[0].Name = "no malware found"
		}
	}
	for _, c := range s.Cases {
		s.Tests++
		switch {
		case c.Failure != nil:
			s.Failures++
		case c.Skipped != nil:
			s.Skipped++
		}
	}
	return s
}

func junitRiskDetails(f *inventory.Finding, src inventory.Source) string {
	var b strings.Builder
	line := func(k, v string) {
		if v != "" {
			fmt.Fprintf(&b, "%-14s %s\n", k+":", clean(v))
		}
	}
	switch f.Kind {
	case inventory.KindSecret:
		line("Rule", f.ID)
	case inventory.KindMalware:
		line("Detection", f.ID)
	default:
		line("Check", f.ID)
	}
	line("Title", f.Title)
	line("Severity", clampSeverity(f.Severity).String())
	loc := whereText(f)
	if l := f.Location.LayerIndex; f.Location.LayerDiffID != "" && l >= 0 && l < len(src.Layers) {
		loc += fmt.Sprintf(", layer %d %s", l, f.Location.LayerDiffID)
	}
	if f.Hidden {
		loc += " (deleted by a later layer, still in the image)"
	}
	line("Found in", loc)
	line("Match", f.Snippet)
	for _, p := range strings.Split(strings.TrimSpace(f.Details), "\n") {
		line("Details", p)
	}
	line("How to fix", f.Remediation)
	for _, c := range f.Controls {
		line("Benchmark", controlText(c))
	}
	for _, u := range references(f) {
		line("Reference", u)
	}
	return b.String()
}

func suffix(sep, s string) string {
	if s == "" {
		return ""
	}
	return sep + s
}

// packageTarget is the target a package's findings would be reported under.
func packageTarget(p *inventory.Package, d *inventory.Distro) target {
	f := inventory.Finding{PackageType: p.Type}
	if len(p.Locations) > 0 {
		f.Location = p.Locations[0]
	}
	return targetOf(&f, d)
}

// notCovered finds the coverage gap a package falls in: the report's
// NotCovered names its OSV ecosystem (with or without a release suffix)
// or, when it has none, its type.
func notCovered(p *inventory.Package, r *inventory.Report) (inventory.Coverage, bool) {
	eco := inventory.Ecosystem(p.Type, r.Distro)
	for _, c := range r.NotCovered {
		if c.Ecosystem == p.Type || (eco != "" && (c.Ecosystem == eco || strings.HasPrefix(c.Ecosystem, eco+":"))) {
			return c, true
		}
	}
	return inventory.Coverage{}, false
}

func suppressionText(s *inventory.Suppression) string {
	var b strings.Builder
	b.WriteString("suppressed by ")
	switch s.Source {
	case inventory.SuppressedByIgnoreFile:
		b.WriteString("the ignore file")
	case inventory.SuppressedByVEX:
		b.WriteString("VEX")
	default:
		b.WriteString(s.Source)
	}
	if s.By != "" {
		b.WriteString(" " + s.By)
	}
	if s.Justification != "" {
		b.WriteString(": " + s.Justification)
	}
	if s.Reason != "" {
		b.WriteString(": " + s.Reason)
	}
	if !s.Expires.IsZero() {
		b.WriteString(" (until " + s.Expires.UTC().Format("2006-01-02") + ")")
	}
	return clean(b.String())
}

func junitMessage(f *inventory.Finding) string {
	s := fmt.Sprintf("%s (%s) in %s %s", f.ID, clampSeverity(f.Severity), f.PackageName, f.InstalledVersion)
	if fix := fixedText(f); fix != "" {
		s += ", fixed in " + fix
	} else {
		s += ", no fix known"
	}
	return clean(s)
}

func junitDetails(f *inventory.Finding, src inventory.Source) string {
	var b strings.Builder
	line := func(k, v string) {
		if v != "" {
			fmt.Fprintf(&b, "%-14s %s\n", k+":", clean(v))
		}
	}
	line("Vulnerability", f.ID)
	line("Aliases", strings.Join(f.Aliases, ", "))
	line("Title", titleText(f))
	line("Severity", severityText(f))
	line("CVSS vector", f.CVSSVector)
	line("Package", f.PackageName+" "+f.InstalledVersion+" ("+f.PackageType+")")
	line("PURL", f.PURL)
	line("Fixed in", fixedText(f))
	line("Status", statusText(f))
	loc := f.Location.Path
	if l := f.Location.LayerIndex; f.Location.LayerDiffID != "" && l >= 0 && l < len(src.Layers) {
		loc += fmt.Sprintf(", layer %d %s", l, f.Location.LayerDiffID)
	}
	line("Found in", loc)
	if f.VEX != nil {
		line("VEX", f.VEX.Status+suffix(": ", f.VEX.Statement))
	}
	line("More", osvURL(f.ID))
	for _, u := range references(f) {
		line("Reference", u)
	}
	return b.String()
}
