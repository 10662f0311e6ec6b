// Package ignore reads .seawallignore, the YAML file in which a team
// accepts known vulnerabilities, secrets, malware findings and
// misconfigurations for a while, and marks the findings it covers as
// suppressed. The format is documented in docs/reference/seawallignore.md.
package ignore

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"
	"time"

	packageurl "github.com/package-url/packageurl-go"
	"gopkg.in/yaml.v3"

	"github.com/seawall-dev/seawall/internal/inventory"
	"github.com/seawall-dev/seawall/internal/purl"
)

// DefaultFile is the file `seawall scan` reads when --ignorefile is not given.
const DefaultFile = ".seawallignore"

// maxFileSize bounds what Load reads: an ignore file is written by hand,
// and a larger one is a mistake.
const maxFileSize = 4 << 20

// dateLayout is how expiry dates are written.
const dateLayout = "2006-01-02"

// File is a parsed ignore file.
type File struct {
	// Name is the path the file was read from, as errors and warnings name it.
	Name    string
	Entries []Entry
}

// lists maps the file's top-level lists to the kind of finding their
// entries accept.
var lists = map[string]string{
	"vulnerabilities":   inventory.KindVulnerability,
	"secrets":           inventory.KindSecret,
	"malware":           inventory.KindMalware,
	"misconfigurations": inventory.KindMisconfiguration,
}

// Entry accepts one vulnerability, secret rule, malware detection or
// configuration check, everywhere or in some packages or paths only.
type Entry struct {
	// Kind is the kind of finding the entry accepts: the list it is in.
	Kind string
	// ID matches a finding's ID or any of its aliases, without regard to case.
	ID string
	// Packages limits the entry to these packages; empty means every package.
	Packages []Package
	// Paths limits the entry to findings whose location matches one of
	// these globs (see MatchPath); empty means everywhere.
	Paths  []string
	Reason string
	// Expires is the last day the entry suppresses, at 00:00 UTC; the entry
	// stops at the end of that day. Zero means it never expires.
	Expires time.Time
	// Line is where the entry starts in the file.
	Line int
}

// Package names a package an entry is limited to. Every field that is set
// must match.
type Package struct {
	// Name is the package's name as the finding has it ("libssl3"), or with
	// its namespace ("org.apache.commons:commons-lang3", "@babel/core").
	Name string
	// PURL is a package URL; qualifiers and a version it leaves out match
	// anything.
	PURL string
	// Version is the installed version, or for a Debian package also the
	// source version that advisories are matched on.
	Version string
}

// Until returns the first instant at which e no longer suppresses, and
// false when it never expires.
func (e *Entry) Until() (time.Time, bool) {
	if e.Expires.IsZero() {
		return time.Time{}, false
	}
	return e.Expires.AddDate(0, 0, 1), true
}

// Expired reports whether e no longer suppresses at now.
func (e *Entry) Expired(now time.Time) bool {
	until, ok := e.Until()
	return ok && !now.Before(until)
}

// Matches reports whether e names f, whether or not it has expired.
func (e *Entry) Matches(f *inventory.Finding) bool {
	kind := f.Kind
	if kind == "" {
		kind = inventory.KindVulnerability
	}
	if e.Kind != "" && e.Kind != kind {
		return false
	}
	if len(e.Paths) > 0 {
		in := false
		for _, p := range e.Paths {
			if MatchPath(p, f.Location.Path) {
				in = true
				break
			}
		}
		if !in {
			return false
		}
	}
	if !strings.EqualFold(e.ID, f.ID) {
		found := false
		for _, a := range f.Aliases {
			if strings.EqualFold(e.ID, a) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	if len(e.Packages) == 0 {
		return true
	}
	for i := range e.Packages {
		if e.Packages[i].matches(f) {
			return true
		}
	}
	return false
}

func (p *Package) matches(f *inventory.Finding) bool {
	var fp *packageurl.PackageURL
	if f.PURL != "" {
		if u, err := packageurl.FromString(f.PURL); err == nil {
			fp = &u
		}
	}
	if p.Name != "" && p.Name != f.PackageName {
		if fp == nil || (p.Name != fp.Name && p.Name != qualifiedName(fp)) {
			return false
		}
	}
	if p.PURL != "" && !purl.Match(p.PURL, f.PURL) {
		return false
	}
	if p.Version != "" && p.Version != f.InstalledVersion {
		if fp == nil || p.Version != fp.Version {
			return false
		}
	}
	return true
}

// qualifiedName is the name with its namespace, as the ecosystem writes it.
func qualifiedName(u *packageurl.PackageURL) string {
	switch {
	case u.Namespace == "":
		return u.Name
	case u.Type == packageurl.TypeMaven:
		return u.Namespace + ":" + u.Name
	default:
		return u.Namespace + "/" + u.Name
	}
}

// Apply marks as suppressed every finding that an entry in force at now
// matches and that nothing suppressed before. It returns a warning for
// each expired entry, saying how many findings it no longer suppresses,
// for the report and the log.
func (f *File) Apply(findings []inventory.Finding, now time.Time) []string {
	if f == nil {
		return nil
	}
	var warnings []string
	for i := range f.Entries {
		e := &f.Entries[i]
		if e.Expired(now) {
			n := 0
			for j := range findings {
				if findings[j].Suppression == nil && e.Matches(&findings[j]) {
					n++
				}
			}
			warnings = append(warnings, expiredWarning(f.Name, e, n))
			continue
		}
		var expires time.Time
		if until, ok := e.Until(); ok {
			expires = until.Add(-time.Second)
		}
		for j := range findings {
			fd := &findings[j]
			if fd.Suppression != nil || !e.Matches(fd) {
				continue
			}
			fd.Suppression = &inventory.Suppression{
				Source:  inventory.SuppressedByIgnoreFile,
				Reason:  e.Reason,
				Expires: expires,
				By:      fmt.Sprintf("%s:%d", f.Name, e.Line),
			}
		}
	}
	return warnings
}

func expiredWarning(name string, e *Entry, n int) string {
	head := fmt.Sprintf("%s:%d: the ignore entry for %s expired at the end of %s", name, e.Line, e.ID, e.Expires.Format(dateLayout))
	switch n {
	case 0:
		return head + " and matches no finding; remove it"
	case 1:
		return head + ": it no longer suppresses 1 finding; fix it, or renew the entry with a new reason and date"
	}
	return fmt.Sprintf("%s: it no longer suppresses %d findings; fix them, or renew the entry with a new reason and date", head, n)
}

// Load reads and parses the ignore file at path. A missing file is an
// error that wraps fs.ErrNotExist, so that a caller for whom the file is
// optional can tell.
func Load(path string) (*File, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("ignore file: %w", err)
	}
	defer fh.Close()
	data, err := io.ReadAll(io.LimitReader(fh, maxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("ignore file %s: %w", path, err)
	}
	if len(data) > maxFileSize {
		return nil, fmt.Errorf("ignore file %s is larger than %d MiB: is it the right file?", path, maxFileSize>>20)
	}
	return Parse(data, path)
}

// Parse reads an ignore file. name is used in errors and warnings. Every
// problem found is reported, each with its line and field.
func Parse(data []byte, name string) (*File, error) {
	f := &File{Name: name}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return f, nil // empty, or only comments
		}
		return nil, fmt.Errorf("%s: not valid YAML: %w", name, err)
	}
	var more yaml.Node
	if err := dec.Decode(&more); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s: holds more than one YAML document; put every entry under one \"vulnerabilities:\" list", name)
	}
	p := parser{name: name}
	p.file(&doc, f)
	if len(p.errs) > 0 {
		return nil, errors.Join(p.errs...)
	}
	return f, nil
}

// parser walks the YAML tree by hand so that every error names its line.
type parser struct {
	name string
	errs []error
}

// maxErrors stops a hopeless file from producing pages of errors.
const maxErrors = 20

func (p *parser) errorf(n *yaml.Node, format string, args ...any) {
	if len(p.errs) == maxErrors {
		p.errs = append(p.errs, fmt.Errorf("%s: too many errors, stopping", p.name))
	}
	if len(p.errs) > maxErrors {
		return
	}
	p.errs = append(p.errs, fmt.Errorf("%s:%d: %s", p.name, n.Line, fmt.Sprintf(format, args...)))
}

func (p *parser) file(doc *yaml.Node, f *File) {
	root := doc
	if root.Kind == yaml.DocumentNode {
		if len(root.Content) == 0 {
			return
		}
		root = root.Content[0]
	}
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		return
	}
	if root.Kind != yaml.MappingNode {
		p.errorf(root, "expected a mapping with lists such as \"vulnerabilities:\" at the top, found %s", kind(root))
		return
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		fk, ok := lists[k.Value]
		if !ok {
			p.errorf(k, "unknown field %q at the top level: the file holds the lists vulnerabilities, secrets, malware and misconfigurations", k.Value)
			continue
		}
		if v.Kind == yaml.ScalarNode && v.Tag == "!!null" {
			continue
		}
		if v.Kind != yaml.SequenceNode {
			p.errorf(v, "%q must be a list of entries, found %s", k.Value, kind(v))
			continue
		}
		for _, item := range v.Content {
			if e, ok := p.entry(item, fk); ok {
				f.Entries = append(f.Entries, e)
			}
		}
	}
}

func (p *parser) entry(n *yaml.Node, fk string) (Entry, bool) {
	e := Entry{Kind: fk, Line: n.Line}
	if n.Kind != yaml.MappingNode {
		p.errorf(n, "each entry must be a mapping with id and reason, found %s", kind(n))
		return e, false
	}
	before := len(p.errs)
	var idNode *yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		switch k.Value {
		case "id":
			idNode = v
			e.ID, _ = p.scalar(v, "id")
		case "reason":
			e.Reason, _ = p.scalar(v, "reason")
		case "expires":
			s, ok := p.scalar(v, "expires")
			if !ok {
				continue
			}
			t, err := time.ParseInLocation(dateLayout, s, time.UTC)
			if err != nil {
				p.errorf(v, "field \"expires\": %q is not a date: write it as YYYY-MM-DD (the entry stops at the end of that day, UTC)", s)
				continue
			}
			e.Expires = t
		case "paths":
			if v.Kind != yaml.SequenceNode {
				p.errorf(v, "field \"paths\" must be a list of path globs, found %s", kind(v))
				continue
			}
			for _, pn := range v.Content {
				s, ok := p.scalar(pn, "paths")
				if !ok {
					continue
				}
				if err := validGlob(s); err != nil {
					p.errorf(pn, "field \"paths\": %q: %v", s, err)
					continue
				}
				e.Paths = append(e.Paths, s)
			}
		case "packages":
			if fk != inventory.KindVulnerability {
				p.errorf(k, "field \"packages\" applies to vulnerabilities only; limit this entry with \"paths\"")
				continue
			}
			if v.Kind != yaml.SequenceNode {
				p.errorf(v, "field \"packages\" must be a list of {name, purl, version}, found %s", kind(v))
				continue
			}
			for _, pn := range v.Content {
				if pkg, ok := p.pkg(pn); ok {
					e.Packages = append(e.Packages, pkg)
				}
			}
		default:
			p.errorf(k, "unknown field %q in an entry: use id, packages, paths, reason and expires", k.Value)
		}
	}
	switch {
	case idNode == nil:
		p.errorf(n, "entry without \"id\": name the vulnerability (CVE, GHSA or any other ID or alias), secret rule, malware detection or check")
	case strings.TrimSpace(e.ID) == "" && len(p.errs) == before:
		p.errorf(idNode, "field \"id\" is empty")
	}
	if strings.TrimSpace(e.Reason) == "" {
		p.errorf(n, "entry for %q has no \"reason\": say why the finding is accepted, for whoever reads this next", e.ID)
	}
	e.ID = strings.TrimSpace(e.ID)
	return e, len(p.errs) == before
}

func (p *parser) pkg(n *yaml.Node) (Package, bool) {
	var pkg Package
	if n.Kind != yaml.MappingNode {
		p.errorf(n, "each package must be a mapping with name, purl and/or version, found %s", kind(n))
		return pkg, false
	}
	before := len(p.errs)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		switch k.Value {
		case "name":
			pkg.Name, _ = p.scalar(v, "name")
		case "purl":
			pkg.PURL, _ = p.scalar(v, "purl")
			if pkg.PURL != "" {
				if _, err := packageurl.FromString(pkg.PURL); err != nil {
					p.errorf(v, "field \"purl\": %q is not a package URL: %v", pkg.PURL, err)
				}
			}
		case "version":
			pkg.Version, _ = p.scalar(v, "version")
		default:
			p.errorf(k, "unknown field %q in a package: use name, purl and version", k.Value)
		}
	}
	if pkg.Name == "" && pkg.PURL == "" && len(p.errs) == before {
		p.errorf(n, "a package needs a \"name\" or a \"purl\"")
	}
	return pkg, len(p.errs) == before
}

// scalar returns the text of a scalar node; any scalar will do, so that
// an unquoted date or number is read as written.
func (p *parser) scalar(n *yaml.Node, field string) (string, bool) {
	if n.Kind != yaml.ScalarNode {
		p.errorf(n, "field %q must be a single value, found %s", field, kind(n))
		return "", false
	}
	if n.Tag == "!!null" {
		return "", true
	}
	return n.Value, true
}

func kind(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "nothing"
		}
		return fmt.Sprintf("the value %q", n.Value)
	}
	return "something else"
}

// validGlob checks a paths glob: "*", "?" and "[…]" as in path.Match,
// and "**" as a whole segment for any number of directories.
func validGlob(g string) error {
	if strings.TrimSpace(g) == "" {
		return errors.New("empty glob")
	}
	for _, seg := range strings.Split(strings.Trim(g, "/"), "/") {
		if seg == "**" {
			continue
		}
		if strings.Contains(seg, "**") {
			return errors.New(`"**" must be a whole path segment, as in "app/**/config.yml"`)
		}
		if _, err := path.Match(seg, ""); err != nil {
			return fmt.Errorf("bad glob: %v", err)
		}
	}
	return nil
}

// MatchPath reports whether a finding's location matches a paths glob.
// Both are taken relative to the root of what was scanned, so "/app/x"
// and "app/x" are the same; "*" matches within one path segment, "**"
// any number of segments. A location that is not a file ("image config",
// "image history") matches only a glob that spells it.
func MatchPath(glob, p string) bool {
	g := strings.Split(strings.Trim(strings.TrimPrefix(glob, "./"), "/"), "/")
	s := strings.Split(strings.Trim(strings.TrimPrefix(p, "./"), "/"), "/")
	// ok[i][j]: g[i:] matches s[j:]. Linear in the product of the two
	// lengths, however many "**" the glob has.
	ok := make([][]bool, len(g)+1)
	for i := range ok {
		ok[i] = make([]bool, len(s)+1)
	}
	ok[len(g)][len(s)] = true
	for i := len(g) - 1; i >= 0; i-- {
		for j := len(s); j >= 0; j-- {
			if g[i] == "**" {
				ok[i][j] = ok[i+1][j] || (j < len(s) && ok[i][j+1])
				continue
			}
			if j < len(s) {
				m, _ := path.Match(g[i], s[j])
				ok[i][j] = m && ok[i+1][j+1]
			}
		}
	}
	return ok[0][0]
}
