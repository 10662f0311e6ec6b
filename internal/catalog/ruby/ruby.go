// Package ruby reads the specifications of installed Ruby gems: the
// specifications/*.gemspec files RubyGems writes when it installs a gem.
// Gemfile.lock, which declares gems, is the gemlock package's.
package ruby

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io/fs"
	"regexp"
	"strconv"
	"strings"

	"github.com/seawall-dev/seawall/internal/catalog"
	"github.com/seawall-dev/seawall/internal/image"
	"github.com/seawall-dev/seawall/internal/inventory"
)

// maxSpec bounds a gemspec; installed ones are a few KB.
const maxSpec = 4 << 20

// Cataloger reads installed gem specifications.
type Cataloger struct{}

// New returns a gemspec cataloger.
func New() *Cataloger { return &Cataloger{} }

func (*Cataloger) Name() string { return "gemspec" }

// Wants takes the gemspecs under a RubyGems specifications directory,
// including default gems ("specifications/default/"). A gemspec in a
// source tree is a template evaluated at build time, not a record.
func (*Cataloger) Wants(p string, mode fs.FileMode) bool {
	return mode.IsRegular() && strings.HasSuffix(p, ".gemspec") && strings.Contains(p, "/specifications/")
}

func (*Cataloger) Catalog(ctx context.Context, f *image.File) ([]inventory.Package, error) {
	b, err := f.ReadAll(maxSpec)
	if err != nil {
		return nil, err
	}
	p, err := Parse(b)
	if err != nil {
		return nil, err
	}
	return []inventory.Package{*p}, nil
}

var (
	specStart = regexp.MustCompile(`Gem::Specification\.new\s*(?:do|\{)\s*\|\s*([A-Za-z_]\w*)\s*\|`)
	attr      = regexp.MustCompile(`^([A-Za-z_]\w*)\.(name|version|licenses|license)\s*=\s*(.*)$`)
	// "# stub: bundler 2.1.4 ruby lib", which RubyGems writes first.
	stub = regexp.MustCompile(`^#\s*stub:\s+(\S+)\s+(\S+)`)
)

// Parse reads an installed gemspec. RubyGems writes these as Ruby code in
// a fixed shape ("s.name = \"rake\".freeze"), which is read here as text:
// the code is never run. Name and version come from the assignments, or
// from the "# stub:" comment when the assignments are not literal.
func Parse(b []byte) (*inventory.Package, error) {
	specVar := "s"
	if m := specStart.FindSubmatch(b); m != nil {
		specVar = string(m[1])
	}
	p := &inventory.Package{Type: inventory.TypeGem}
	var stubName, stubVersion string
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 64<<10), maxSpec)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if m := stub.FindStringSubmatch(line); m != nil && stubName == "" {
			stubName, stubVersion = m[1], m[2]
			continue
		}
		m := attr.FindStringSubmatch(line)
		if m == nil || m[1] != specVar {
			continue
		}
		strs := stringLiterals(m[3])
		switch m[2] {
		case "name":
			if len(strs) > 0 && p.Name == "" {
				p.Name = strs[0]
			}
		case "version":
			if len(strs) > 0 && p.Version == "" {
				p.Version = strs[0]
			}
		case "licenses", "license":
			for _, l := range strs {
				if l = strings.TrimSpace(l); l != "" {
					p.Licenses = append(p.Licenses, l)
				}
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if p.Name == "" {
		p.Name = stubName
	}
	if p.Version == "" && p.Name == stubName {
		p.Version = stubVersion
	}
	if p.Name == "" || p.Version == "" {
		return nil, errors.New("not a gem specification: no literal name and version")
	}
	return p, nil
}

// stringLiterals returns the Ruby string literals in an expression, in
// order: "…" with its escapes, and '…'. Anything else (.freeze, brackets,
// Gem::Version.new) is skipped.
func stringLiterals(s string) []string {
	var out []string
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '#':
			return out // a comment
		case '"':
			j := i + 1
			for j < len(s) && s[j] != '"' {
				if s[j] == '\\' {
					j++
				}
				j++
			}
			if j >= len(s) {
				return out
			}
			out = append(out, unquote(s[i:j+1]))
			i = j
		case '\'':
			j := i + 1
			var sb strings.Builder
			for j < len(s) && s[j] != '\'' {
				if s[j] == '\\' && j+1 < len(s) && (s[j+1] == '\'' || s[j+1] == '\\') {
					j++
				}
				sb.WriteByte(s[j])
				j++
			}
			if j >= len(s) {
				return out
			}
			out = append(out, sb.String())
			i = j
		}
	}
	return out
}

// unquote decodes a double-quoted Ruby string. Ruby's escapes are close
// enough to Go's for what gemspecs hold ("\u00E9"); whatever Go rejects
// is kept as written, without the quotes.
func unquote(q string) string {
	if s, err := strconv.Unquote(q); err == nil {
		return s
	}
	return q[1 : len(q)-1]
}

var _ catalog.Cataloger = (*Cataloger)(nil)
