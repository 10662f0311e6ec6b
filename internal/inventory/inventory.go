// Package inventory holds Seawall's core data types: what was scanned, the
// packages found in it, and where each one came from. It imports only the
// standard library so that every other package can depend on it.
package inventory

import (
	"crypto/sha256"
	"encoding/hex"
	"sort"
	"strings"
)

// Package types, as used in package URLs (https://github.com/package-url/purl-spec).
const (
	TypeDeb       = "deb"
	TypeAPK       = "apk"
	TypeRPM       = "rpm"
	TypeGolang    = "golang"
	TypeNPM       = "npm"
	TypePyPI      = "pypi"
	TypeMaven     = "maven"
	TypeCargo     = "cargo"
	TypeGem       = "gem"
	TypeComposer  = "composer"
	TypeNuGet     = "nuget"
	TypePub       = "pub"
	TypeHex       = "hex"
	TypeSwift     = "swift"
	TypeCocoapods = "cocoapods"
	TypeConan     = "conan"
	TypeJulia     = "julia"
	TypeConda     = "conda"
)

// Package is one installed or declared software package.
type Package struct {
	// ID is stable: it is derived from the package's identity and location,
	// never from the order in which it was found.
	ID      string `json:"id"`
	Type    string `json:"type"` // a Type* constant
	Name    string `json:"name"`
	Version string `json:"version"`
	// Namespace is the PURL namespace where the ecosystem has one: a Maven
	// groupId, an npm scope ("@types"), a Composer vendor. OS packages get
	// theirs (the distro) when the PURL is built.
	Namespace string `json:"namespace,omitempty"`
	PURL      string `json:"purl"`

	// SourceName and SourceVersion name the package that this one was built
	// from: the Debian source package, the Alpine origin, the source RPM.
	// Distro advisories are keyed on these.
	SourceName    string `json:"sourceName,omitempty"`
	SourceVersion string `json:"sourceVersion,omitempty"`

	Arch     string   `json:"arch,omitempty"`
	Epoch    int      `json:"epoch,omitempty"` // rpm only; dpkg epochs stay in Version
	Licenses []string `json:"licenses,omitempty"`

	// Dev marks a development-only dependency declared in a lockfile.
	Dev bool `json:"dev,omitempty"`
	// Direct marks a dependency the project names itself, where the lockfile says so.
	Direct bool `json:"direct,omitempty"`

	FoundBy   string     `json:"foundBy"`
	Locations []Location `json:"locations"`
	// Metadata holds extra facts that do not fit the fields above, such as
	// the Go toolchain that built a binary or a jar's Main-Class.
	Metadata map[string]string `json:"metadata,omitempty"`
}

// Location is where a package was found.
type Location struct {
	// Path is absolute within the scanned tree ("/var/lib/dpkg/status").
	// A path inside an archive uses "!" ("/app/app.war!/WEB-INF/lib/x.jar").
	Path string `json:"path"`
	// LayerDigest and LayerDiffID identify the image layer that holds the
	// file (compressed and uncompressed digest). Empty outside images.
	LayerDigest string `json:"layerDigest,omitempty"`
	LayerDiffID string `json:"layerDiffID,omitempty"`
	LayerIndex  int    `json:"layerIndex"`
}

// Distro describes the operating system found in an image or root
// filesystem. It is nil when none was found.
type Distro struct {
	ID         string   `json:"id"`                   // os-release ID: "debian", "alpine", "rhel"
	VersionID  string   `json:"versionID,omitempty"`  // "12", "3.19.1", "9.3"
	Codename   string   `json:"codename,omitempty"`   // "bookworm"
	Name       string   `json:"name,omitempty"`       // "Debian GNU/Linux"
	PrettyName string   `json:"prettyName,omitempty"` // "Debian GNU/Linux 12 (bookworm)"
	IDLike     []string `json:"idLike,omitempty"`
	// Distroless is set for images that carry a package database but no
	// shell or package manager (gcr.io/distroless and similar).
	Distroless bool `json:"distroless,omitempty"`
	// Source names the file the facts were read from.
	Source string `json:"source,omitempty"`
}

// Source describes what was scanned.
type Source struct {
	Type string `json:"type"` // image source kind: docker-archive, oci-layout, oci-archive, registry, rootfs, dir
	Name string `json:"name"` // as the user gave it
	// Digest is the manifest digest; ImageID is the config digest.
	Digest      string   `json:"digest,omitempty"`
	ImageID     string   `json:"imageID,omitempty"`
	RepoTags    []string `json:"repoTags,omitempty"`
	RepoDigests []string `json:"repoDigests,omitempty"`
	Platform    string   `json:"platform,omitempty"`
	Layers      []Layer  `json:"layers,omitempty"`
}

// Layer is one image layer, bottom first.
type Layer struct {
	Digest    string `json:"digest,omitempty"`
	DiffID    string `json:"diffID,omitempty"`
	MediaType string `json:"mediaType,omitempty"`
	Size      int64  `json:"size,omitempty"`
	CreatedBy string `json:"createdBy,omitempty"`
}

// Inventory is the result of cataloging one source: an SBOM.
type Inventory struct {
	Source   Source    `json:"source"`
	Distro   *Distro   `json:"distro,omitempty"`
	Packages []Package `json:"packages"`
	// Warnings are problems that did not stop the scan: a malformed
	// lockfile, a tar entry that escaped the root, a file too big to read.
	Warnings []string `json:"warnings,omitempty"`
}

// StableID returns an ID for p derived from its identity and where it was
// found. It is the same across scans of the same content.
func StableID(p *Package) string {
	h := sha256.New()
	for _, s := range []string{p.Type, p.Namespace, p.Name, p.Version, p.SourceName, p.SourceVersion, p.Arch, p.FoundBy} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	paths := make([]string, 0, len(p.Locations))
	for _, l := range p.Locations {
		paths = append(paths, l.Path+"\x00"+l.LayerDiffID)
	}
	sort.Strings(paths)
	for _, s := range paths {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:8])
}

// Sort orders packages deterministically: by type, name, version, then
// first location.
func Sort(pkgs []Package) {
	sort.SliceStable(pkgs, func(i, j int) bool {
		a, b := &pkgs[i], &pkgs[j]
		if a.Type != b.Type {
			return a.Type < b.Type
		}
		if a.Namespace != b.Namespace {
			return a.Namespace < b.Namespace
		}
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		if a.Version != b.Version {
			return a.Version < b.Version
		}
		return firstPath(a) < firstPath(b)
	})
}

func firstPath(p *Package) string {
	if len(p.Locations) == 0 {
		return ""
	}
	return p.Locations[0].Path
}

// Ecosystem returns the OSV ecosystem name for a package type, without a
// distro release ("Debian", not "Debian:12"). OS package types map through
// the distro, which the caller supplies. CocoaPods and conda have no OSV
// ecosystem and give "".
func Ecosystem(typ string, d *Distro) string {
	switch typ {
	case TypeGolang:
		return "Go"
	case TypeNPM:
		return "npm"
	case TypePyPI:
		return "PyPI"
	case TypeMaven:
		return "Maven"
	case TypeCargo:
		return "crates.io"
	case TypeGem:
		return "RubyGems"
	case TypeComposer:
		return "Packagist"
	case TypeNuGet:
		return "NuGet"
	case TypePub:
		return "Pub"
	case TypeHex:
		return "Hex"
	case TypeSwift:
		return "SwiftURL"
	case TypeConan:
		return "ConanCenter"
	case TypeJulia:
		return "Julia"
	case TypeDeb, TypeAPK, TypeRPM:
		if d == nil {
			return ""
		}
		return distroEcosystem(d.ID)
	}
	return ""
}

func distroEcosystem(id string) string {
	switch strings.ToLower(id) {
	case "debian":
		return "Debian"
	case "ubuntu":
		return "Ubuntu"
	case "alpine":
		return "Alpine"
	case "almalinux":
		return "AlmaLinux"
	case "rocky":
		return "Rocky Linux"
	case "rhel", "redhat":
		return "Red Hat"
	case "opensuse-leap", "opensuse-tumbleweed", "opensuse":
		return "openSUSE"
	case "sles", "sle-micro", "suse":
		return "SUSE"
	case "mariner", "azurelinux":
		return "Azure Linux"
	case "wolfi":
		return "Wolfi"
	case "chainguard":
		return "Chainguard"
	}
	return ""
}
