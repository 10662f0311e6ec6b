package report

import (
	"crypto/sha1"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	packageurl "github.com/package-url/packageurl-go"

	"github.com/seawall-dev/seawall/internal/inventory"
	"github.com/seawall-dev/seawall/internal/purl"
)

// What this file holds is shared by the CycloneDX and SPDX writers: the
// order of packages, how the scanned subject is named, and the document's
// deterministic identity.

// Source kinds, as inventory.Source.Type spells them.
const (
	sourceDockerArchive = "docker-archive"
	sourceOCILayout     = "oci-layout"
	sourceOCIArchive    = "oci-archive"
	sourceRegistry      = "registry"
	sourceRootfs        = "rootfs"
	sourceDir           = "dir"
)

// docPackage is a package with the reference a document uses for it.
type docPackage struct {
	*inventory.Package
	Ref string // unique within the document
}

// documentPackages returns the packages in a fixed order, each with a
// unique reference: its stable ID, suffixed in the unlikely case that two
// packages share one. The inventory is not modified.
func documentPackages(inv *inventory.Inventory) []docPackage {
	pkgs := slices.Clone(inv.Packages)
	for i := range pkgs {
		if pkgs[i].ID == "" {
			pkgs[i].ID = inventory.StableID(&pkgs[i])
		}
		if pkgs[i].PURL == "" {
			pkgs[i].PURL = purl.For(&pkgs[i], inv.Distro)
		}
	}
	// Order by ID first so that inventory.Sort, which is stable, breaks its
	// ties the same way on every run.
	slices.SortStableFunc(pkgs, func(a, b inventory.Package) int { return strings.Compare(a.ID, b.ID) })
	inventory.Sort(pkgs)

	out := make([]docPackage, len(pkgs))
	seen := make(map[string]int, len(pkgs))
	for i := range pkgs {
		ref := pkgs[i].ID
		if n := seen[ref]; n > 0 {
			ref += "-" + strconv.Itoa(n+1)
		}
		seen[pkgs[i].ID]++
		out[i] = docPackage{Package: &pkgs[i], Ref: ref}
	}
	return out
}

// isOSPackage reports whether the package came from the distro's own
// package manager.
func isOSPackage(p *inventory.Package) bool {
	switch p.Type {
	case inventory.TypeDeb, inventory.TypeAPK, inventory.TypeRPM:
		return true
	}
	return false
}

// isApplication reports whether the package is the program itself rather
// than something it uses: the main module of a Go binary, which the Go
// cataloger names in Metadata["mainModule"].
func isApplication(p *inventory.Package) bool {
	return p.Type == inventory.TypeGolang && p.Metadata["mainModule"] == p.Name
}

// groupAndName splits a package's name the way CycloneDX expects: the Maven
// groupId, the npm scope and the Composer vendor go in group. Other
// ecosystems, Go included, keep the whole name.
func groupAndName(p *inventory.Package) (group, name string) {
	ns, name := p.Namespace, p.Name
	var sep string
	switch p.Type {
	case inventory.TypeMaven:
		sep = ":"
	case inventory.TypeNPM:
		sep = "/"
		if ns == "" && !strings.HasPrefix(name, "@") {
			return "", name
		}
	case inventory.TypeComposer:
		sep = "/"
	case inventory.TypeGolang:
		if ns != "" {
			return "", ns + "/" + name
		}
		return "", name
	default:
		return "", name
	}
	if ns == "" {
		if i := strings.Index(name, sep); i > 0 {
			ns, name = name[:i], name[i+1:]
		}
	}
	return ns, name
}

// fullName is the name a person would search for: "@types/node",
// "org.apache.commons:commons-lang3", "symfony/console".
func fullName(p *inventory.Package) string {
	group, name := groupAndName(p)
	switch {
	case group == "":
		return name
	case p.Type == inventory.TypeMaven:
		return group + ":" + name
	default:
		return group + "/" + name
	}
}

// displayVersion is the package version with an RPM epoch in front, as
// rpm itself prints EVR ("1:3.0.7-27.el9").
func displayVersion(p *inventory.Package) string {
	if p.Type == inventory.TypeRPM && p.Epoch > 0 {
		return strconv.Itoa(p.Epoch) + ":" + p.Version
	}
	return p.Version
}

// locationPaths returns the distinct paths a package was found at, in order.
func locationPaths(p *inventory.Package) []string {
	var paths []string
	for _, l := range p.Locations {
		if l.Path != "" && !slices.Contains(paths, l.Path) {
			paths = append(paths, l.Path)
		}
	}
	return paths
}

// subject describes what was scanned, as the root of the document.
type subject struct {
	kind    string // "container", "file" or "application"
	name    string
	version string // the manifest digest, or the image ID without one
	purl    string // pkg:oci, only when a registry digest is known
}

func describeSubject(src inventory.Source) subject {
	s := subject{name: src.Name}
	switch src.Type {
	case sourceDockerArchive, sourceOCILayout, sourceOCIArchive, sourceRegistry:
		s.kind = "container"
	case sourceDir:
		s.kind = "application"
	case sourceRootfs:
		s.kind = "file"
	default:
		s.kind = "file"
		if len(src.Layers) > 0 {
			s.kind = "container"
		}
	}
	if s.kind != "container" {
		if s.name == "" {
			s.name = "unknown"
		}
		return s
	}

	s.version = src.Digest
	if s.version == "" {
		s.version = src.ImageID
	}
	repo, digest := "", ""
	switch {
	case len(src.RepoDigests) > 0:
		repo, digest, _ = strings.Cut(src.RepoDigests[0], "@")
		s.name = repo
	case len(src.RepoTags) > 0:
		s.name, _ = splitTag(src.RepoTags[0])
	case src.Type == sourceRegistry:
		s.name, _ = splitTag(strings.SplitN(src.Name, "@", 2)[0])
	}
	if s.name == "" {
		s.name = "unknown"
	}
	if repo != "" && digest != "" {
		s.purl = ociPURL(repo, digest, src)
	}
	return s
}

// splitTag splits "host:5000/team/app:1.2" into the repository and the tag.
func splitTag(ref string) (repo, tag string) {
	i := strings.LastIndex(ref, ":")
	if i < 0 || strings.Contains(ref[i+1:], "/") {
		return ref, ""
	}
	return ref[:i], ref[i+1:]
}

// ociPURL builds pkg:oci/NAME@DIGEST?arch=…&repository_url=…&tag=… as the
// purl spec's oci type describes it.
func ociPURL(repo, digest string, src inventory.Source) string {
	name := strings.ToLower(repo[strings.LastIndex(repo, "/")+1:])
	var q packageurl.Qualifiers
	if parts := strings.Split(src.Platform, "/"); len(parts) > 1 && parts[1] != "" {
		q = append(q, packageurl.Qualifier{Key: "arch", Value: parts[1]})
	}
	q = append(q, packageurl.Qualifier{Key: "repository_url", Value: repo})
	for _, t := range src.RepoTags {
		if r, tag := splitTag(t); r == repo && tag != "" {
			q = append(q, packageurl.Qualifier{Key: "tag", Value: tag})
			break
		}
	}
	return packageurl.NewPackageURL("oci", "", name, digest, q, "").ToString()
}

// seawallNamespace is the UUID v5 namespace for Seawall's documents:
// uuid5(NAMESPACE_URL, "https://seawall.dev/sbom").
var seawallNamespace = [16]byte{0x48, 0xdc, 0x88, 0x7a, 0x1b, 0x76, 0x5c, 0x08, 0x84, 0xdd, 0xf9, 0x03, 0xc4, 0x8a, 0x46, 0xa4}

// documentUUID is a name-based (version 5) UUID for one document. It is
// derived from what was scanned, the IDs of the packages found, the tool
// version and the document's timestamp: with SOURCE_DATE_EPOCH fixed, two
// scans of the same content give the same UUID and so the same bytes;
// without it, every run gets its own, as CycloneDX's serialNumber and SPDX's
// documentNamespace ask for.
func documentUUID(inv *inventory.Inventory, pkgs []docPackage, meta Meta) string {
	identity := inv.Source.Digest
	if identity == "" {
		identity = inv.Source.ImageID
	}
	if identity == "" {
		identity = inv.Source.Name
	}
	ids := make([]string, len(pkgs))
	for i, p := range pkgs {
		ids[i] = p.Ref
	}
	slices.Sort(ids)

	h := sha1.New() // RFC 9562 §5.5: version 5 UUIDs use SHA-1; nothing here relies on collision resistance
	h.Write(seawallNamespace[:])
	fmt.Fprintf(h, "seawall-sbom\x00%s\x00%s\x00%s\x00%s\x00", meta.ToolVersion, meta.Created.UTC().Format(time.RFC3339), inv.Source.Type, identity)
	for _, id := range ids {
		h.Write([]byte(id))
		h.Write([]byte{0})
	}
	var u [16]byte
	copy(u[:], h.Sum(nil))
	u[6] = u[6]&0x0f | 0x50 // version 5
	u[8] = u[8]&0x3f | 0x80 // RFC 4122 variant
	return fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])
}

func toolVersion(meta Meta) string {
	if meta.ToolVersion == "" {
		return "unknown"
	}
	return meta.ToolVersion
}
