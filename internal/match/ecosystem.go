package match

import (
	"fmt"
	"sort"
	"strings"

	"github.com/seawall-dev/seawall/internal/inventory"
	"github.com/seawall-dev/seawall/internal/version"
)

// target is where one package is looked up and how its version compares.
type target struct {
	ecosystems []string // the database's ecosystems to look in, most specific first
	name       string   // the package name advisories use
	version    string   // the version to compare: the source version for Debian
	ordering   string   // the ecosystem whose version ordering applies
}

// uncovered says why a package cannot be checked; label is the OSV
// ecosystem it would need, or the package type when there is none.
type uncovered struct {
	label, reason string
}

// ecosystems indexes the database's ecosystem names.
type ecosystems struct {
	all  []string
	have map[string]bool
}

func newEcosystems(list []string) ecosystems {
	e := ecosystems{all: append([]string(nil), list...), have: make(map[string]bool, len(list))}
	sort.Strings(e.all)
	for _, s := range list {
		e.have[s] = true
	}
	return e
}

// withPrefix lists the ecosystems that equal base or start with base+":".
func (e ecosystems) withPrefix(base string) []string {
	var out []string
	for _, s := range e.all {
		if s == base || strings.HasPrefix(s, base+":") {
			out = append(out, s)
		}
	}
	return out
}

// languageEcosystems maps language package types to OSV ecosystems.
var languageEcosystems = map[string]string{
	inventory.TypeGolang:   "Go",
	inventory.TypeNPM:      "npm",
	inventory.TypePyPI:     "PyPI",
	inventory.TypeMaven:    "Maven",
	inventory.TypeCargo:    "crates.io",
	inventory.TypeGem:      "RubyGems",
	inventory.TypeComposer: "Packagist",
	inventory.TypeNuGet:    "NuGet",
	inventory.TypePub:      "Pub",
	inventory.TypeHex:      "Hex",
	inventory.TypeSwift:    "SwiftURL",
	inventory.TypeJulia:    "Julia",
	inventory.TypeConan:    "ConanCenter",
}

// targetFor maps a package to the database ecosystems, name and version
// that OSV advisories for it use. The rules per package type are in the
// package documentation.
func targetFor(p *inventory.Package, d *inventory.Distro, ecos ecosystems, pro bool) (target, *uncovered) {
	if eco, ok := languageEcosystems[p.Type]; ok {
		return languageTarget(p, eco, ecos)
	}
	switch p.Type {
	case inventory.TypeDeb, inventory.TypeAPK, inventory.TypeRPM:
		return osTarget(p, d, ecos, pro)
	}
	return target{}, &uncovered{p.Type, "no OSV ecosystem is known for this package type"}
}

func languageTarget(p *inventory.Package, eco string, ecos ecosystems) (target, *uncovered) {
	name, v := p.Name, p.Version
	switch p.Type {
	case inventory.TypeGolang:
		v = strings.TrimPrefix(v, "v")
	case inventory.TypeNPM, inventory.TypeComposer:
		if p.Namespace != "" {
			name = p.Namespace + "/" + p.Name
		}
	case inventory.TypeMaven:
		if p.Namespace == "" {
			return target{}, &uncovered{eco, "Maven artifact without a groupId"}
		}
		name = p.Namespace + ":" + p.Name
	case inventory.TypeCargo:
		if src := p.Metadata["source"]; src != "" && src != "crates.io" {
			return target{}, &uncovered{eco, "crate not from crates.io (a local, git or other-registry crate); crates.io advisories do not apply"}
		}
	}
	if name == "" || v == "" {
		return target{}, &uncovered{eco, "package without a name or version"}
	}
	if !version.Supported(eco) {
		return target{}, &uncovered{eco, "Seawall has no version ordering for " + eco + " yet, so its advisories cannot be evaluated"}
	}
	if !ecos.have[eco] {
		return target{}, &uncovered{eco, "the vulnerability database has no " + eco + " advisories"}
	}
	return target{ecosystems: []string{eco}, name: name, version: v, ordering: eco}, nil
}

// debianReleases maps codenames to release numbers for os-release files
// without a VERSION_ID (testing and older derivatives).
var debianReleases = map[string]string{
	"stretch": "9", "buster": "10", "bullseye": "11", "bookworm": "12", "trixie": "13", "forky": "14", "sid": "sid",
}

// osTarget maps an OS package through the distro. Debian and Ubuntu
// advisories name source packages, Alpine's name origins; the Red Hat
// family, SUSE and openSUSE name binary RPMs, Azure Linux source RPMs.
func osTarget(p *inventory.Package, d *inventory.Distro, ecos ecosystems, pro bool) (target, *uncovered) {
	if d == nil || d.ID == "" {
		return target{}, &uncovered{p.Type, "no distro was detected (no os-release), so OS packages cannot be matched"}
	}
	id := strings.ToLower(d.ID)
	family, candidates, label := distroEcosystems(d, ecos, pro)
	if family == "" {
		return target{}, &uncovered{p.Type + " (" + id + ")", fmt.Sprintf("no OSV ecosystem is known for distro %q", clip(d.ID))}
	}
	if family != p.Type {
		return target{}, &uncovered{label, fmt.Sprintf("%s packages are not covered by %s advisories", p.Type, id)}
	}
	if len(candidates) == 0 {
		return target{}, &uncovered{label, "the vulnerability database has no " + label + " advisories"}
	}
	t := target{ecosystems: candidates, ordering: candidates[0]}
	switch p.Type {
	case inventory.TypeDeb:
		t.name, t.version = p.SourceName, p.SourceVersion
		if t.name == "" {
			t.name = p.Name
		}
		if t.version == "" {
			t.version = p.Version
		}
	case inventory.TypeAPK:
		t.name, t.version = p.SourceName, p.Version
		if t.name == "" {
			t.name = p.Name
		}
	case inventory.TypeRPM:
		t.name, t.version = p.Name, p.Version
		if id == "azurelinux" || id == "mariner" {
			if p.SourceName != "" {
				t.name = p.SourceName
			}
		}
		if p.Epoch > 0 {
			t.version = fmt.Sprintf("%d:%s", p.Epoch, p.Version)
		}
	}
	if t.name == "" || t.version == "" {
		return target{}, &uncovered{label, "package without a name or version"}
	}
	return t, nil
}

// distroEcosystems returns the package type a distro's advisories cover,
// the database ecosystems that apply to the release (most specific
// first) and the ecosystem name to report when there are none.
func distroEcosystems(d *inventory.Distro, ecos ecosystems, pro bool) (family string, candidates []string, label string) {
	id := strings.ToLower(d.ID)
	ver := strings.TrimSpace(d.VersionID)
	major, _, _ := strings.Cut(ver, ".")
	exact := func(names ...string) []string {
		var out []string
		for _, n := range names {
			if ecos.have[n] {
				out = append(out, n)
			}
		}
		return out
	}
	switch id {
	case "debian":
		rel := major
		if rel == "" {
			rel = debianReleases[strings.ToLower(d.Codename)]
		}
		if rel == "" {
			return inventory.TypeDeb, nil, "Debian (unknown release)"
		}
		label = "Debian:" + rel
		return inventory.TypeDeb, exact(label), label
	case "ubuntu":
		// "Ubuntu:22.04" and its suffixed forms ("Ubuntu:22.04:LTS"); the
		// Ubuntu Pro (ESM) forms only on systems with ESM packages.
		label = "Ubuntu:" + ver
		candidates = ecos.withPrefix(label)
		if pro {
			candidates = append(candidates, ecos.withPrefix("Ubuntu:Pro:"+ver)...)
		}
		return inventory.TypeDeb, candidates, label
	case "alpine", "wolfi", "chainguard":
		if id != "alpine" {
			label = map[string]string{"wolfi": "Wolfi", "chainguard": "Chainguard"}[id]
			return inventory.TypeAPK, exact(label), label
		}
		parts := strings.SplitN(ver, ".", 3)
		if len(parts) < 2 {
			return inventory.TypeAPK, nil, "Alpine (unknown release)"
		}
		minor := parts[1]
		if i := strings.IndexFunc(minor, func(r rune) bool { return r < '0' || r > '9' }); i >= 0 {
			minor = minor[:i]
		}
		label = "Alpine:v" + parts[0] + "." + minor
		return inventory.TypeAPK, exact(label), label
	case "almalinux":
		label = "AlmaLinux:" + major
		return inventory.TypeRPM, exact(label, "AlmaLinux"), label
	case "rocky":
		label = "Rocky Linux:" + major
		return inventory.TypeRPM, exact(label, "Rocky Linux"), label
	case "rhel", "redhat":
		// Red Hat ecosystems carry a CPE product stream; the main RHEL
		// streams are "Red Hat:enterprise_linux:<major>::<repository>".
		label = "Red Hat:enterprise_linux:" + major
		return inventory.TypeRPM, ecos.withPrefix(label + ":"), label
	case "opensuse-leap", "opensuse-tumbleweed", "opensuse-microos", "opensuse":
		rel := strings.TrimPrefix(d.PrettyName, "openSUSE ")
		if d.PrettyName == "" || rel == d.PrettyName {
			rel = "Leap " + ver
			if id == "opensuse-tumbleweed" {
				rel = "Tumbleweed"
			}
		}
		label = "openSUSE:" + rel
		return inventory.TypeRPM, exact(label), label
	case "sles", "sles_sap", "sle-micro", "sled", "suse":
		rel := strings.TrimPrefix(d.PrettyName, "SUSE ")
		if rel == d.PrettyName {
			rel = d.PrettyName
		}
		label = "SUSE:" + rel
		return inventory.TypeRPM, exact(label), label
	case "azurelinux", "mariner":
		label = "Azure Linux:" + ver
		return inventory.TypeRPM, exact(label, "Azure Linux:"+major, "Mariner:"+ver), label
	}
	return "", nil, ""
}

// ubuntuPro reports whether a system has Ubuntu Pro (ESM) packages
// installed: only then do the Pro advisories' fixes apply to it.
func ubuntuPro(pkgs []inventory.Package) bool {
	for i := range pkgs {
		if pkgs[i].Type == inventory.TypeDeb && strings.Contains(pkgs[i].Version, "esm") {
			return true
		}
	}
	return false
}

// sameName reports whether an affected entry's package name denotes the
// package looked up: equal after the normalisation the database's lookup
// keys on (inventory.NormalizeName).
func sameName(ecosystem, a, b string) bool {
	return a == b || inventory.NormalizeName(ecosystem, a) == inventory.NormalizeName(ecosystem, b)
}
