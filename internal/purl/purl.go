// Package purl builds package URLs (https://github.com/package-url/purl-spec)
// for inventory packages, following the spec's per-type rules for
// namespaces, name normalisation and qualifiers.
package purl

import (
	"sort"
	"strconv"
	"strings"

	packageurl "github.com/package-url/packageurl-go"

	"github.com/seawall-dev/seawall/internal/inventory"
)

// For returns the package URL of p. OS packages take their namespace and
// "distro" qualifier from d.
func For(p *inventory.Package, d *inventory.Distro) string {
	ns, name := p.Namespace, p.Name
	var subpath string
	var q []packageurl.Qualifier
	add := func(k, v string) {
		if v != "" {
			q = append(q, packageurl.Qualifier{Key: k, Value: v})
		}
	}
	switch p.Type {
	case inventory.TypeDeb, inventory.TypeAPK, inventory.TypeRPM:
		if ns == "" && d != nil {
			ns = osNamespace(p.Type, d)
		}
		add("arch", p.Arch)
		if p.Type == inventory.TypeRPM && p.Epoch > 0 {
			add("epoch", strconv.Itoa(p.Epoch))
		}
		if d != nil && d.ID != "" {
			add("distro", d.ID+"-"+d.VersionID)
		}
		if p.SourceName != "" && p.SourceName != p.Name {
			up := p.SourceName
			if p.Type == inventory.TypeRPM && p.SourceVersion != "" {
				up = p.SourceName + "-" + p.SourceVersion + ".src.rpm"
			}
			add("upstream", up)
		}
	case inventory.TypePyPI:
		name = NormalizePyPI(name)
	case inventory.TypeGolang:
		// The purl spec splits a Go module path into namespace and name.
		if ns == "" {
			if i := strings.LastIndex(name, "/"); i > 0 {
				ns, name = name[:i], name[i+1:]
			}
		}
	case inventory.TypeNPM:
		if ns == "" && strings.HasPrefix(name, "@") {
			if i := strings.Index(name, "/"); i > 0 {
				ns, name = name[:i], name[i+1:]
			}
		}
	case inventory.TypeComposer:
		if ns == "" {
			if i := strings.Index(name, "/"); i > 0 {
				ns, name = name[:i], name[i+1:]
			}
		}
		ns, name = strings.ToLower(ns), strings.ToLower(name)
	case inventory.TypeMaven:
		if ns == "" {
			if i := strings.Index(name, ":"); i > 0 {
				ns, name = name[:i], name[i+1:]
			}
		}
	case inventory.TypeSwift:
		// A Swift package is named by its repository: the namespace is
		// the host and owner ("github.com/apple"), the name the repository.
		if ns == "" {
			if i := strings.LastIndex(name, "/"); i > 0 {
				ns, name = name[:i], name[i+1:]
			}
		}
	case inventory.TypeCocoapods:
		// A subspec ("GoogleUtilities/NSData+zlib") is the pod's subpath.
		if i := strings.Index(name, "/"); i > 0 {
			name, subpath = name[:i], name[i+1:]
		}
	case inventory.TypePub:
		name = strings.ToLower(name)
	case inventory.TypeHex:
		// The namespace, when there is one, is a hex.pm organisation.
		ns, name = strings.ToLower(ns), strings.ToLower(name)
	case inventory.TypeJulia:
		// Julia names are unique only together with the package's UUID.
		add("uuid", p.Metadata["uuid"])
	}
	sort.Slice(q, func(i, j int) bool { return q[i].Key < q[j].Key })
	return packageurl.NewPackageURL(p.Type, ns, name, p.Version, q, subpath).ToString()
}

func osNamespace(typ string, d *inventory.Distro) string {
	switch typ {
	case inventory.TypeAPK:
		if d.ID == "" {
			return "alpine"
		}
	case inventory.TypeDeb:
		if d.ID == "" {
			return "debian"
		}
	}
	return d.ID
}

// NormalizePyPI applies PEP 503 name normalisation, which the purl spec
// requires for pypi: lower case, runs of "-", "_" and "." become "-".
func NormalizePyPI(name string) string { return inventory.NormalizeName("PyPI", name) }
