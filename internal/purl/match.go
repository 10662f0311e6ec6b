package purl

import (
	"strings"

	packageurl "github.com/package-url/packageurl-go"
)

// Match reports whether the package URL pattern names the package URL
// target: type, namespace and name are equal, and the version, each
// qualifier and the subpath, when the pattern gives them, are equal too.
// Qualifiers the pattern leaves out do not matter, so
// "pkg:deb/debian/libssl3@3.0.11-1" matches
// "pkg:deb/debian/libssl3@3.0.11-1?arch=amd64&distro=debian-12". Either
// string failing to parse is no match.
func Match(pattern, target string) bool {
	p, err := packageurl.FromString(pattern)
	if err != nil {
		return false
	}
	t, err := packageurl.FromString(target)
	if err != nil {
		return false
	}
	if !strings.EqualFold(p.Type, t.Type) || !sameName(p, t) {
		return false
	}
	if p.Version != "" && p.Version != t.Version {
		return false
	}
	if p.Subpath != "" && strings.Trim(p.Subpath, "/") != strings.Trim(t.Subpath, "/") {
		return false
	}
	want := p.Qualifiers.Map()
	have := t.Qualifiers.Map()
	for k, v := range want {
		if have[k] != v {
			return false
		}
	}
	return true
}

// sameName compares namespace and name the way the type's purl rules
// normalise them: PyPI names by PEP 503, and the types whose names are
// case-insensitive by case.
func sameName(p, t packageurl.PackageURL) bool {
	switch strings.ToLower(p.Type) {
	case "pypi":
		return NormalizePyPI(p.Name) == NormalizePyPI(t.Name) && p.Namespace == t.Namespace
	case "deb", "apk", "npm", "github", "bitbucket", "composer", "hex":
		// The purl spec lowercases these namespaces (and most of these names);
		// tools do not all follow it, so compare without case.
		return strings.EqualFold(p.Namespace, t.Namespace) && strings.EqualFold(p.Name, t.Name)
	}
	return p.Namespace == t.Namespace && p.Name == t.Name
}
