// Package hex reads mix.lock, the lockfile of Elixir projects, which
// records the Hex packages (and git dependencies) a project builds with.
package hex

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"

	"github.com/seawall-dev/seawall/internal/catalog"
	"github.com/seawall-dev/seawall/internal/image"
	"github.com/seawall-dev/seawall/internal/inventory"
)

const (
	// maxLock bounds a mix.lock; large umbrella apps have tens of KB.
	maxLock = 16 << 20
	// maxDepth bounds nesting of Elixir terms; mix.lock nests four deep.
	maxDepth = 64
)

// Cataloger reads mix.lock files.
type Cataloger struct{}

// New returns a mix.lock cataloger.
func New() *Cataloger { return &Cataloger{} }

func (*Cataloger) Name() string { return "mix-lock" }

// Declared reports that mix.lock declares, rather than installs, packages.
func (*Cataloger) Declared() bool { return true }

// Wants accepts mix.lock, except the lockfiles that fetched dependencies
// keep in the project's deps/<name>/.
func (*Cataloger) Wants(p string, mode fs.FileMode) bool {
	return mode.IsRegular() && path.Base(p) == "mix.lock" && path.Base(path.Dir(path.Dir(p))) != "deps"
}

func (*Cataloger) Catalog(ctx context.Context, f *image.File) ([]inventory.Package, error) {
	b, err := f.ReadAll(maxLock)
	if err != nil {
		return nil, err
	}
	return Parse(ctx, b)
}

// Parse reads a mix.lock: an Elixir map from the dependency's name in
// mix.exs to a tuple. Hex packages are {:hex, :package, "version",
// "hash", [managers], [deps], "repo", "hash"}; the package is the second
// element, which differs from the key when mix.exs renames it. A repo
// "hexpm:org" is a private package of a hex.pm organisation, which
// becomes the Namespace; another repo is kept in Metadata["repo"]. Git
// and path dependencies carry no version and are left out. mix.lock
// does not say which dependencies are direct or for development only.
func Parse(ctx context.Context, b []byte) ([]inventory.Package, error) {
	p := &parser{b: b}
	p.skipSpace()
	if p.i >= len(p.b) {
		return nil, nil
	}
	top, err := p.value()
	if err == nil {
		p.skipSpace()
		if p.i < len(p.b) {
			err = p.errorf("unexpected %q after the map", p.b[p.i])
		}
	}
	if err != nil {
		return nil, fmt.Errorf("not a valid mix.lock: %w", err)
	}
	if top.kind != kMap {
		return nil, errors.New("not a valid mix.lock: it does not hold a map")
	}

	seen := map[string]bool{}
	var pkgs []inventory.Package
	for i := 0; i+1 < len(top.items); i += 2 {
		if i%4096 == 0 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		t := top.items[i+1]
		if t.kind != kTuple || len(t.items) < 3 || !t.items[0].is(kAtom, "hex") {
			continue
		}
		name, version := t.items[1], t.items[2]
		if name.kind != kAtom || version.kind != kString || !validName(name.s) || !validVersion(version.s) {
			continue
		}
		pkg := inventory.Package{Type: inventory.TypeHex, Name: name.s, Version: version.s}
		if len(t.items) > 6 && t.items[6].kind == kString {
			repo := t.items[6].s
			switch org, ok := strings.CutPrefix(repo, "hexpm:"); {
			case repo == "hexpm":
			case ok && validName(org):
				pkg.Namespace = org
			default:
				pkg.Metadata = map[string]string{"repo": repo}
			}
		}
		k := pkg.Namespace + "/" + pkg.Name + "@" + pkg.Version + "@" + pkg.Metadata["repo"]
		if seen[k] {
			continue
		}
		seen[k] = true
		pkgs = append(pkgs, pkg)
	}
	sort.SliceStable(pkgs, func(i, j int) bool { return pkgs[i].Name < pkgs[j].Name })
	return pkgs, nil
}

// validName checks a Hex package or organisation name: letters, digits
// and underscores.
func validName(s string) bool {
	if s == "" || len(s) > 256 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// validVersion accepts the characters of a semantic version.
func validVersion(s string) bool {
	if s == "" || len(s) > 256 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte(".-+", c) >= 0) {
			return false
		}
	}
	return true
}

// The Elixir terms of a mix.lock: maps, tuples, lists (with keyword
// pairs), strings, atoms, and bare words (numbers, true, false, nil).
type kind int

const (
	kOther kind = iota
	kString
	kAtom
	kTuple
	kList
	kMap
)

type term struct {
	kind  kind
	s     string
	items []term // a map's keys and values alternate
}

func (t term) is(k kind, s string) bool { return t.kind == k && t.s == s }

type parser struct {
	b     []byte
	i     int
	depth int
}

func (p *parser) errorf(format string, args ...any) error {
	line := 1 + strings.Count(string(p.b[:min(p.i, len(p.b))]), "\n")
	return fmt.Errorf("line %d: %s", line, fmt.Sprintf(format, args...))
}

func (p *parser) skipSpace() {
	for p.i < len(p.b) {
		switch c := p.b[p.i]; {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			p.i++
		case c == '#':
			for p.i < len(p.b) && p.b[p.i] != '\n' {
				p.i++
			}
		default:
			return
		}
	}
}

func (p *parser) value() (term, error) {
	p.skipSpace()
	if p.i >= len(p.b) {
		return term{}, p.errorf("unexpected end of file")
	}
	switch c := p.b[p.i]; {
	case c == '%':
		p.i++
		if p.i >= len(p.b) || p.b[p.i] != '{' {
			return term{}, p.errorf("%% not followed by {")
		}
		p.i++
		return p.seq(kMap, '}')
	case c == '{':
		p.i++
		return p.seq(kTuple, '}')
	case c == '[':
		p.i++
		return p.seq(kList, ']')
	case c == '"':
		s, err := p.str()
		return term{kind: kString, s: s}, err
	case c == ':':
		p.i++
		if p.i < len(p.b) && p.b[p.i] == '"' {
			s, err := p.str()
			return term{kind: kAtom, s: s}, err
		}
		w := p.word()
		if w == "" {
			return term{}, p.errorf("empty atom")
		}
		return term{kind: kAtom, s: w}, nil
	default:
		w := p.word()
		if w == "" {
			return term{}, p.errorf("unexpected %q", c)
		}
		return term{kind: kOther, s: w}, nil
	}
}

// seq reads the elements of a map, tuple or list up to end. An element
// may be a keyword pair ("name": v, name: v), which in a map gives a key
// and a value and elsewhere a two-element tuple, or, in a map, k => v.
func (p *parser) seq(k kind, end byte) (term, error) {
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > maxDepth {
		return term{}, p.errorf("nested deeper than %d levels", maxDepth)
	}
	t := term{kind: k}
	for {
		p.skipSpace()
		if p.i >= len(p.b) {
			return term{}, p.errorf("unexpected end of file")
		}
		if p.b[p.i] == end {
			p.i++
			return t, nil
		}
		v, err := p.value()
		if err != nil {
			return term{}, err
		}
		var pair []term
		if (v.kind == kString || v.kind == kOther) && p.i+1 < len(p.b) && p.b[p.i] == ':' && isSpace(p.b[p.i+1]) {
			p.i++
			val, err := p.value()
			if err != nil {
				return term{}, err
			}
			pair = []term{{kind: kAtom, s: v.s}, val}
		} else if p.skipSpace(); p.i+1 < len(p.b) && p.b[p.i] == '=' && p.b[p.i+1] == '>' {
			p.i += 2
			val, err := p.value()
			if err != nil {
				return term{}, err
			}
			pair = []term{v, val}
		}
		switch {
		case pair != nil && k == kMap:
			t.items = append(t.items, pair...)
		case pair != nil:
			t.items = append(t.items, term{kind: kTuple, items: pair})
		case k == kMap:
			return term{}, p.errorf("map element without a key")
		default:
			t.items = append(t.items, v)
		}
		p.skipSpace()
		if p.i < len(p.b) && p.b[p.i] == ',' {
			p.i++
			continue
		}
		p.skipSpace()
		if p.i < len(p.b) && p.b[p.i] == end {
			continue
		}
		return term{}, p.errorf("expected , or %c", end)
	}
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// str reads a double-quoted string, keeping escaped characters as they
// are written after the backslash.
func (p *parser) str() (string, error) {
	p.i++ // the opening quote
	var sb strings.Builder
	for p.i < len(p.b) {
		c := p.b[p.i]
		switch c {
		case '"':
			p.i++
			return sb.String(), nil
		case '\\':
			if p.i+1 < len(p.b) {
				p.i++
				sb.WriteByte(p.b[p.i])
			}
		default:
			sb.WriteByte(c)
		}
		p.i++
	}
	return "", p.errorf("unterminated string")
}

// word reads a bare word: an atom's or keyword's name, a number, true,
// false or nil.
func (p *parser) word() string {
	start := p.i
	for p.i < len(p.b) {
		c := p.b[p.i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("_.?!@+-", c) >= 0 {
			p.i++
			continue
		}
		break
	}
	return string(p.b[start:p.i])
}

var _ catalog.Cataloger = (*Cataloger)(nil)
var _ catalog.Declared = (*Cataloger)(nil)
