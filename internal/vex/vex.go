// Package vex reads OpenVEX documents (https://openvex.dev) and applies
// their statements to findings: "not_affected" suppresses a finding with
// its justification; "affected", "fixed" and "under_investigation" are
// recorded on the finding without suppressing it. The behaviour is
// documented in docs/reference/vex.md.
package vex

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	packageurl "github.com/package-url/packageurl-go"

	"github.com/seawall-dev/seawall/internal/inventory"
	"github.com/seawall-dev/seawall/internal/purl"
)

// contextPrefix starts the @context of every OpenVEX version:
// "https://openvex.dev/ns" (v0.0.1), "https://openvex.dev/ns/v0.2.0".
const contextPrefix = "https://openvex.dev/ns"

// maxFileSize bounds what Load reads.
const maxFileSize = 32 << 20

// Statuses.
const (
	StatusNotAffected        = "not_affected"
	StatusAffected           = "affected"
	StatusFixed              = "fixed"
	StatusUnderInvestigation = "under_investigation"
)

// Justifications a not_affected statement may give.
const (
	ComponentNotPresent                         = "component_not_present"
	VulnerableCodeNotPresent                    = "vulnerable_code_not_present"
	VulnerableCodeNotInExecutePath              = "vulnerable_code_not_in_execute_path"
	VulnerableCodeCannotBeControlledByAdversary = "vulnerable_code_cannot_be_controlled_by_adversary"
	InlineMitigationsAlreadyExist               = "inline_mitigations_already_exist"
)

var justifications = []string{
	ComponentNotPresent, VulnerableCodeNotPresent, VulnerableCodeNotInExecutePath,
	VulnerableCodeCannotBeControlledByAdversary, InlineMitigationsAlreadyExist,
}

// Document is one OpenVEX document.
type Document struct {
	// Name is the path the document was read from, as the report names it.
	Name       string
	Context    string
	ID         string
	Author     string
	Timestamp  time.Time
	Statements []Statement
}

// Statement says how one vulnerability affects some products.
type Statement struct {
	Vulnerability   Vulnerability
	Products        []Product
	Status          string
	Justification   string
	ImpactStatement string
	ActionStatement string
	StatusNotes     string
	// Timestamp is when the statement was made: its own timestamp, or the
	// document's when it has none. The latest statement about a finding wins.
	Timestamp time.Time
}

// Vulnerability names the vulnerability a statement is about.
type Vulnerability struct {
	ID      string // @id, an IRI
	Name    string // "CVE-2023-1234"
	Aliases []string
}

// Product is a piece of software a statement is about: an image, a
// package, or an application, each named by IRI, package URL or hash.
// Subcomponents narrow the statement to those components inside it.
type Product struct {
	Component
	Subcomponents []Component
}

// Component is an identified piece of software.
type Component struct {
	ID          string            // @id: a package URL, an image digest, an IRI
	Identifiers map[string]string // purl, cpe22, cpe23
	Hashes      map[string]string // algorithm ("sha-256") → hex digest
}

// Load reads and parses the OpenVEX document at path.
func Load(path string) (*Document, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("VEX document: %w", err)
	}
	defer fh.Close()
	data, err := io.ReadAll(io.LimitReader(fh, maxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("VEX document %s: %w", path, err)
	}
	if len(data) > maxFileSize {
		return nil, fmt.Errorf("VEX document %s is larger than %d MiB", path, maxFileSize>>20)
	}
	return Parse(data, path)
}

// The JSON shapes. OpenVEX v0.0.1 wrote the vulnerability as a string and
// products and subcomponents as strings; v0.2.0 made them objects. Both
// are read.
type (
	jsonDocument struct {
		Context    string          `json:"@context"`
		ID         string          `json:"@id"`
		Author     string          `json:"author"`
		Timestamp  *time.Time      `json:"timestamp"`
		Statements []jsonStatement `json:"statements"`
	}
	jsonStatement struct {
		Vulnerability   jsonVulnerability `json:"vulnerability"`
		Products        []jsonProduct     `json:"products"`
		Subcomponents   []jsonComponent   `json:"subcomponents"` // v0.0.1: beside products
		Status          string            `json:"status"`
		Justification   string            `json:"justification"`
		ImpactStatement string            `json:"impact_statement"`
		ActionStatement string            `json:"action_statement"`
		StatusNotes     string            `json:"status_notes"`
		Timestamp       *time.Time        `json:"timestamp"`
	}
	jsonVulnerability struct {
		ID      string   `json:"@id"`
		Name    string   `json:"name"`
		Aliases []string `json:"aliases"`
	}
	jsonComponent struct {
		ID          string            `json:"@id"`
		Identifiers map[string]string `json:"identifiers"`
		Hashes      map[string]string `json:"hashes"`
	}
	jsonProduct struct {
		jsonComponent
		Subcomponents []jsonComponent `json:"subcomponents"`
	}
)

func (v *jsonVulnerability) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		v.Name = s
		return nil
	}
	type plain jsonVulnerability
	return json.Unmarshal(b, (*plain)(v))
}

func (c *jsonComponent) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		c.ID = s
		return nil
	}
	type plain jsonComponent
	return json.Unmarshal(b, (*plain)(c))
}

func (p *jsonProduct) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		p.ID = s
		return nil
	}
	var v struct {
		ID            string            `json:"@id"`
		Identifiers   map[string]string `json:"identifiers"`
		Hashes        map[string]string `json:"hashes"`
		Subcomponents []jsonComponent   `json:"subcomponents"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*p = jsonProduct{jsonComponent{v.ID, v.Identifiers, v.Hashes}, v.Subcomponents}
	return nil
}

// Parse reads an OpenVEX JSON document. name is used in errors and in the
// suppressions the document makes.
func Parse(data []byte, name string) (*Document, error) {
	var jd jsonDocument
	if err := json.Unmarshal(data, &jd); err != nil {
		return nil, fmt.Errorf("VEX document %s: %w", name, jsonError(data, err))
	}
	if !strings.HasPrefix(jd.Context, contextPrefix) {
		return nil, fmt.Errorf("VEX document %s: @context %q is not OpenVEX's (%s/v0.2.0): Seawall reads OpenVEX JSON only", name, jd.Context, contextPrefix)
	}
	doc := &Document{Name: name, Context: jd.Context, ID: jd.ID, Author: jd.Author}
	if jd.Timestamp != nil {
		doc.Timestamp = *jd.Timestamp
	}
	var errs []error
	for i, js := range jd.Statements {
		s, err := statement(js, doc.Timestamp)
		if err != nil {
			errs = append(errs, fmt.Errorf("VEX document %s: statements[%d]%s: %w", name, i, about(js), err))
			if len(errs) == 20 {
				errs = append(errs, fmt.Errorf("VEX document %s: too many errors, stopping", name))
				break
			}
			continue
		}
		doc.Statements = append(doc.Statements, s)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return doc, nil
}

func about(js jsonStatement) string {
	if v := js.Vulnerability.Name; v != "" {
		return " (" + v + ")"
	}
	if v := js.Vulnerability.ID; v != "" {
		return " (" + v + ")"
	}
	return ""
}

func statement(js jsonStatement, docTime time.Time) (Statement, error) {
	s := Statement{
		Vulnerability: Vulnerability{
			ID:      strings.TrimSpace(js.Vulnerability.ID),
			Name:    strings.TrimSpace(js.Vulnerability.Name),
			Aliases: js.Vulnerability.Aliases,
		},
		Status:          js.Status,
		Justification:   js.Justification,
		ImpactStatement: js.ImpactStatement,
		ActionStatement: js.ActionStatement,
		StatusNotes:     js.StatusNotes,
		Timestamp:       docTime,
	}
	if js.Timestamp != nil {
		s.Timestamp = *js.Timestamp
	}
	if s.Vulnerability.Name == "" && s.Vulnerability.ID == "" {
		return s, errors.New("the vulnerability has no name: give vulnerability.name (\"CVE-2024-1234\")")
	}
	for _, jp := range js.Products {
		p := Product{Component: component(jp.jsonComponent)}
		for _, sc := range jp.Subcomponents {
			p.Subcomponents = append(p.Subcomponents, component(sc))
		}
		for _, sc := range js.Subcomponents {
			p.Subcomponents = append(p.Subcomponents, component(sc))
		}
		if p.empty() {
			return s, errors.New("a product has no @id, identifiers or hashes")
		}
		s.Products = append(s.Products, p)
	}
	if len(s.Products) == 0 {
		return s, errors.New("no products: a statement must name the image or packages it is about")
	}
	switch s.Status {
	case StatusNotAffected:
		if s.Justification == "" && strings.TrimSpace(s.ImpactStatement) == "" {
			return s, errors.New("status not_affected needs a justification or an impact_statement")
		}
		if s.Justification != "" && !contains(justifications, s.Justification) {
			return s, fmt.Errorf("unknown justification %q: use one of %s", s.Justification, strings.Join(justifications, ", "))
		}
	case StatusAffected, StatusFixed, StatusUnderInvestigation:
	case "":
		return s, errors.New("no status: use not_affected, affected, fixed or under_investigation")
	default:
		return s, fmt.Errorf("unknown status %q: use not_affected, affected, fixed or under_investigation", s.Status)
	}
	return s, nil
}

func component(jc jsonComponent) Component {
	return Component{ID: strings.TrimSpace(jc.ID), Identifiers: jc.Identifiers, Hashes: jc.Hashes}
}

func (p *Product) empty() bool {
	return p.ID == "" && len(p.Identifiers) == 0 && len(p.Hashes) == 0
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// jsonError adds the line and column to a syntax or type error.
func jsonError(data []byte, err error) error {
	var off int64
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		off = syn.Offset - 1 // the offset is just past the offending byte
	case errors.As(err, &typ):
		off = typ.Offset
	default:
		return err
	}
	off = max(0, min(off, int64(len(data))))
	line := 1 + bytes.Count(data[:off], []byte{'\n'})
	col := int(off) - bytes.LastIndexByte(data[:off], '\n')
	return fmt.Errorf("line %d, column %d: %w", line, col, err)
}

// names returns every name the statement gives its vulnerability.
func (s *Statement) names() []string {
	out := make([]string, 0, 2+len(s.Vulnerability.Aliases))
	for _, n := range append([]string{s.Vulnerability.Name, s.Vulnerability.ID}, s.Vulnerability.Aliases...) {
		if n != "" {
			out = append(out, n)
		}
	}
	return out
}

// aboutFinding reports whether the statement names f's vulnerability, by
// its ID or any alias.
func (s *Statement) aboutFinding(f *inventory.Finding) bool {
	for _, n := range s.names() {
		if strings.EqualFold(n, f.ID) {
			return true
		}
		for _, a := range f.Aliases {
			if strings.EqualFold(n, a) {
				return true
			}
		}
	}
	return false
}

// scope is what a statement's products are compared with: the scanned
// image and its packages.
type scope struct {
	digests  []string // "sha256:…": manifest digest, repo digests, image ID
	repos    []string // repositories the image is known in
	refs     []string // the name the user gave, tags, digest references
	packages []inventory.Package
}

func newScope(r *inventory.Report) *scope {
	src := r.Source
	sc := &scope{packages: r.Packages}
	add := func(list *[]string, v string) {
		if v != "" && !contains(*list, v) {
			*list = append(*list, v)
		}
	}
	add(&sc.digests, src.Digest)
	add(&sc.digests, src.ImageID)
	add(&sc.refs, src.Name)
	for _, t := range src.RepoTags {
		add(&sc.refs, t)
		repo, _ := splitTag(t)
		add(&sc.repos, repo)
	}
	for _, d := range src.RepoDigests {
		add(&sc.refs, d)
		repo, dig, _ := strings.Cut(d, "@")
		add(&sc.repos, repo)
		add(&sc.digests, dig)
	}
	return sc
}

// splitTag splits "host:5000/team/app:1.2" into the repository and the tag.
func splitTag(ref string) (repo, tag string) {
	i := strings.LastIndex(ref, ":")
	if i < 0 || strings.Contains(ref[i+1:], "/") {
		return ref, ""
	}
	return ref[:i], ref[i+1:]
}

// ids returns the identifiers a component gives: its @id and its purl.
func (c *Component) ids() []string {
	var out []string
	if c.ID != "" {
		out = append(out, c.ID)
	}
	if p := c.Identifiers["purl"]; p != "" {
		out = append(out, p)
	}
	return out
}

// isPackage reports whether c names the package whose purl is given.
func (c *Component) isPackage(pkgPURL string) bool {
	if pkgPURL == "" {
		return false
	}
	for _, id := range c.ids() {
		if strings.HasPrefix(id, "pkg:") && purl.Match(id, pkgPURL) {
			return true
		}
	}
	return false
}

// isImage reports whether c names the scanned image: by digest, by
// reference, by pkg:oci package URL or by hash.
func (c *Component) isImage(sc *scope) bool {
	for _, id := range c.ids() {
		switch {
		case strings.HasPrefix(id, "pkg:oci/"):
			if sc.ociMatch(id) {
				return true
			}
		case strings.HasPrefix(id, "sha256:"):
			if contains(sc.digests, id) {
				return true
			}
		case strings.Contains(id, "@sha256:"):
			if _, d, _ := strings.Cut(id, "@"); contains(sc.digests, d) {
				return true
			}
		default:
			if contains(sc.refs, id) {
				return true
			}
		}
	}
	for alg, h := range c.Hashes {
		if strings.EqualFold(alg, "sha-256") && contains(sc.digests, "sha256:"+strings.ToLower(h)) {
			return true
		}
	}
	return false
}

// ociMatch matches a pkg:oci package URL: by digest when it has a version,
// and otherwise by name and, when given, repository_url.
func (sc *scope) ociMatch(s string) bool {
	u, err := packageurl.FromString(s)
	if err != nil {
		return false
	}
	if u.Version != "" {
		return contains(sc.digests, u.Version)
	}
	q := u.Qualifiers.Map()
	for _, repo := range sc.repos {
		if !strings.EqualFold(repo[strings.LastIndex(repo, "/")+1:], u.Name) {
			continue
		}
		if ru := q["repository_url"]; ru == "" || strings.EqualFold(ru, repo) {
			return true
		}
	}
	return false
}

// holds reports whether c names a package of the scan found in the same
// file as f: the application a Go or Rust binary was built as, say.
func (c *Component) holds(sc *scope, f *inventory.Finding) bool {
	for i := range sc.packages {
		p := &sc.packages[i]
		if !c.isPackage(p.PURL) {
			continue
		}
		for _, l := range p.Locations {
			if l.Path == f.Location.Path {
				return true
			}
		}
	}
	return false
}

// covers reports whether product p covers finding f: p names f's package;
// or p names the image, or a package that shares f's file, and f's
// package is one of p's subcomponents, or p lists none.
func (p *Product) covers(sc *scope, f *inventory.Finding) bool {
	if len(p.Subcomponents) == 0 {
		return p.isPackage(f.PURL) || p.isImage(sc)
	}
	found := false
	for i := range p.Subcomponents {
		if p.Subcomponents[i].isPackage(f.PURL) {
			found = true
			break
		}
	}
	return found && (p.isImage(sc) || p.isPackage(f.PURL) || p.holds(sc, f))
}

// maxNamed bounds the findings a notice lists by name.
const maxNamed = 10

// Apply applies the statements of docs to the findings of r. For each
// finding the latest statement that names its vulnerability and covers
// its package wins (the later document, then the later statement, on a
// tie). not_affected suppresses a finding that nothing suppressed before;
// the other statuses are recorded in Finding.VEX. It returns notices for
// the report and the log: what each document did, which findings are
// under investigation, and how many statements matched nothing.
func Apply(docs []*Document, r *inventory.Report) []string {
	if len(docs) == 0 {
		return nil
	}
	sc := newScope(r)
	type ref struct{ doc, stmt int }
	used := make(map[ref]bool)
	type tally struct{ notAffected, affected, fixed, investigating int }
	counts := make([]tally, len(docs))
	var investigating []string

	for i := range r.Findings {
		f := &r.Findings[i]
		var best *Statement
		var bestRef ref
		for di, d := range docs {
			for si := range d.Statements {
				s := &d.Statements[si]
				if !s.aboutFinding(f) || !s.coversAny(sc, f) {
					continue
				}
				if best == nil || !s.Timestamp.Before(best.Timestamp) {
					best, bestRef = s, ref{di, si}
				}
			}
		}
		if best == nil {
			continue
		}
		used[bestRef] = true
		d := docs[bestRef.doc]
		t := &counts[bestRef.doc]
		switch best.Status {
		case StatusNotAffected:
			t.notAffected++
			if f.Suppression == nil {
				f.Suppression = &inventory.Suppression{
					Source:        inventory.SuppressedByVEX,
					Reason:        best.ImpactStatement,
					Justification: best.Justification,
					By:            d.Name,
				}
			}
		case StatusAffected:
			t.affected++
			f.VEX = &inventory.VEXNote{Status: best.Status, Statement: firstNonEmpty(best.ActionStatement, best.StatusNotes), By: d.Name}
		case StatusFixed:
			t.fixed++
			f.VEX = &inventory.VEXNote{Status: best.Status, Statement: best.StatusNotes, By: d.Name}
		case StatusUnderInvestigation:
			t.investigating++
			f.VEX = &inventory.VEXNote{Status: best.Status, Statement: best.StatusNotes, By: d.Name}
			investigating = append(investigating, f.ID+" in "+f.PackageName+" "+f.InstalledVersion)
		}
	}

	var notices []string
	for di, d := range docs {
		t := counts[di]
		var parts []string
		if t.notAffected > 0 {
			parts = append(parts, fmt.Sprintf("%d not affected (suppressed)", t.notAffected))
		}
		if t.affected > 0 {
			parts = append(parts, fmt.Sprintf("%d affected", t.affected))
		}
		if t.fixed > 0 {
			parts = append(parts, fmt.Sprintf("%d fixed (still found by the scan, so still reported)", t.fixed))
		}
		if t.investigating > 0 {
			parts = append(parts, fmt.Sprintf("%d under investigation", t.investigating))
		}
		unused := 0
		for si := range d.Statements {
			if !used[ref{di, si}] {
				unused++
			}
		}
		msg := "VEX " + d.Name + ": "
		if len(parts) == 0 {
			msg += "no statement applies to any finding"
		} else {
			msg += strings.Join(parts, ", ")
			if unused > 0 {
				msg += fmt.Sprintf("; %d of %d statements apply to no finding", unused, len(d.Statements))
			}
		}
		notices = append(notices, msg)
	}
	if n := len(investigating); n > 0 {
		list := investigating[:min(n, maxNamed)]
		msg := "under investigation according to VEX: " + strings.Join(list, ", ")
		if n > maxNamed {
			msg += fmt.Sprintf(" and %d more", n-maxNamed)
		}
		notices = append(notices, msg)
	}
	return notices
}

func (s *Statement) coversAny(sc *scope, f *inventory.Finding) bool {
	for i := range s.Products {
		if s.Products[i].covers(sc, f) {
			return true
		}
	}
	return false
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}
