// Package nugetproj reads the NuGet packages a .NET project declares
// outside packages.lock.json: packages.config of classic projects, the
// PackageReference items of project files (*.csproj, *.fsproj,
// *.vbproj), and the central package versions of Directory.Packages.props.
package nugetproj

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strings"

	"github.com/seawall-dev/seawall/internal/catalog"
	"github.com/seawall-dev/seawall/internal/image"
	"github.com/seawall-dev/seawall/internal/inventory"
)

const (
	// maxFile bounds a project or packages file; real ones are small.
	maxFile = 16 << 20
	// maxDepth bounds XML nesting; project files nest a few levels.
	maxDepth = 256
)

// Cataloger reads .NET project and package files.
type Cataloger struct{}

// New returns a .NET project cataloger.
func New() *Cataloger { return &Cataloger{} }

func (*Cataloger) Name() string { return "nuget-project" }

// Declared reports that project files declare, rather than install,
// packages.
func (*Cataloger) Declared() bool { return true }

// Wants accepts packages.config, Directory.Packages.props (and
// Packages.props, its name before .NET 6) and C#, F# and Visual Basic
// project files, outside the NuGet package cache.
func (*Cataloger) Wants(p string, mode fs.FileMode) bool {
	if !mode.IsRegular() || strings.Contains(p, "/.nuget/packages/") {
		return false
	}
	base := path.Base(p)
	switch base {
	case "packages.config", "Directory.Packages.props", "Packages.props":
		return true
	}
	switch strings.ToLower(path.Ext(base)) {
	case ".csproj", ".fsproj", ".vbproj":
		return true
	}
	return false
}

func (*Cataloger) Catalog(ctx context.Context, f *image.File) ([]inventory.Package, error) {
	b, err := f.ReadAll(maxFile)
	if err != nil {
		return nil, err
	}
	return Parse(ctx, b)
}

// item is one package element as it is being read.
type item struct {
	kind            string // "package", "PackageReference", "PackageVersion", "GlobalPackageReference"
	name            string
	version         string
	versionOverride string
	dev             bool
	depth           int
}

// Parse reads packages.config or an MSBuild project file.
//
// In packages.config every <package id version> is reported;
// developmentDependency="true" marks Dev. The file lists transitive
// packages too, so Direct is not set.
//
// In project files, PackageReference and GlobalPackageReference items
// (Include or Update, Version or VersionOverride, as an attribute or a
// child element) are Direct; PackageVersion items of central package
// management pin a version without referencing the package and are not.
// Only literal versions are reported: "1.2.3", and "[1.2.3]", which
// means exactly 1.2.3. A version taken from an MSBuild property
// ("$(SerilogVersion)"), a range or a floating version ("1.*") says
// nothing certain and the item is skipped, as is a reference without a
// version, whose version central package management sets elsewhere.
func Parse(ctx context.Context, b []byte) ([]inventory.Package, error) {
	d := xml.NewDecoder(bytes.NewReader(bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))))
	var (
		stack   []string // element names, outermost first
		cur     *item
		text    strings.Builder // character data of a child of cur
		pkgs    []inventory.Package
		seen    = map[string]int{}
		elems   int
		rootSet bool
		root    string
	)
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("not valid XML: %w", err)
		}
		if elems++; elems%4096 == 0 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		switch t := tok.(type) {
		case xml.StartElement:
			name := t.Name.Local
			if len(stack) >= maxDepth {
				return nil, fmt.Errorf("XML nested deeper than %d elements", maxDepth)
			}
			if !rootSet {
				rootSet, root = true, name
			}
			stack = append(stack, name)
			text.Reset()
			if cur != nil {
				continue
			}
			switch {
			case root == "packages" && name == "package" && len(stack) == 2:
				cur = &item{kind: "package", depth: len(stack)}
				for _, a := range t.Attr {
					switch strings.ToLower(a.Name.Local) {
					case "id":
						cur.name = a.Value
					case "version":
						cur.version = a.Value
					case "developmentdependency":
						cur.dev = strings.EqualFold(strings.TrimSpace(a.Value), "true")
					}
				}
			case root == "Project" && isItem(name):
				cur = &item{kind: name, depth: len(stack)}
				for _, a := range t.Attr {
					switch strings.ToLower(a.Name.Local) {
					case "include", "update":
						if cur.name == "" {
							cur.name = a.Value
						}
					case "version":
						cur.version = a.Value
					case "versionoverride":
						cur.versionOverride = a.Value
					}
				}
			}
		case xml.CharData:
			if cur != nil && len(stack) == cur.depth+1 && text.Len() < 1024 {
				text.Write(t)
			}
		case xml.EndElement:
			if len(stack) == 0 {
				return nil, errors.New("not valid XML: unbalanced end element")
			}
			name := stack[len(stack)-1]
			if cur != nil && len(stack) == cur.depth+1 {
				switch strings.ToLower(name) {
				case "version":
					cur.version = text.String()
				case "versionoverride":
					cur.versionOverride = text.String()
				}
			}
			if cur != nil && len(stack) == cur.depth {
				if p, ok := cur.pkg(); ok {
					k := strings.ToLower(p.Name) + "@" + p.Version
					if i, dup := seen[k]; dup {
						pkgs[i].Direct = pkgs[i].Direct || p.Direct
						pkgs[i].Dev = pkgs[i].Dev && p.Dev
					} else {
						seen[k] = len(pkgs)
						pkgs = append(pkgs, p)
					}
				}
				cur = nil
			}
			stack = stack[:len(stack)-1]
		}
	}
	if !rootSet {
		return nil, errors.New("not valid XML: no root element")
	}
	return pkgs, nil
}

func isItem(name string) bool {
	switch name {
	case "PackageReference", "PackageVersion", "GlobalPackageReference":
		return true
	}
	return false
}

// pkg turns a finished element into a package, if it names one with a
// literal version.
func (it *item) pkg() (inventory.Package, bool) {
	name := strings.TrimSpace(it.name)
	v := it.version
	if it.versionOverride != "" {
		v = it.versionOverride
	}
	version, ok := literalVersion(v)
	if !ok || !validName(name) {
		return inventory.Package{}, false
	}
	return inventory.Package{
		Type:    inventory.TypeNuGet,
		Name:    name,
		Version: version,
		Dev:     it.dev,
		Direct:  it.kind == "PackageReference" || it.kind == "GlobalPackageReference",
	}, true
}

// literalVersion returns the one version a NuGet version string names:
// "1.2.3" or "[1.2.3]". Ranges, floating versions and MSBuild
// properties give false.
func literalVersion(v string) (string, bool) {
	v = strings.TrimSpace(v)
	if strings.HasPrefix(v, "[") && strings.HasSuffix(v, "]") && !strings.Contains(v, ",") {
		v = strings.TrimSpace(v[1 : len(v)-1])
	}
	if v == "" || len(v) > 128 {
		return "", false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte(".-+", c) >= 0) {
			return "", false
		}
	}
	if c := v[0]; c < '0' || c > '9' {
		return "", false
	}
	return v, true
}

// validName checks a NuGet package ID: letters, digits, ".", "-" and
// "_", as nuget.org allows. Item lists ("A;B"), wildcards and paths are
// not package IDs.
func validName(s string) bool {
	if s == "" || len(s) > 256 || s[0] == '.' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte(".-_", c) >= 0) {
			return false
		}
	}
	return true
}

var _ catalog.Cataloger = (*Cataloger)(nil)
var _ catalog.Declared = (*Cataloger)(nil)
