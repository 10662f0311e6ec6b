package java

import (
	"regexp"
	"strings"

	"github.com/seawall-dev/seawall/internal/inventory"
)

// Evidence values, in Metadata["evidence"]: how sure the coordinate is.
// Only pom.properties states a groupId; the others infer it, and a vuln
// matcher may want to treat such a groupId as a guess.
const (
	evidencePom      = "pom.properties"
	evidenceManifest = "MANIFEST.MF"
	evidenceFilename = "filename"
)

// identify names the packages of one archive. Every pom.properties is a
// package: a shaded or uber jar carries one per library it swallowed.
// The archive's own identity, from its manifest and file name, is added
// only when no pom.properties already describes it, so that a plain
// Maven jar is reported once.
func identify(fileName string, mf *manifest, poms []pomProps) []inventory.Package {
	own := ownIdentity(fileName, mf)
	lic := mf.licenses()
	var out []inventory.Package
	described := false
	for _, p := range poms {
		pkg := inventory.Package{
			Namespace: p.group,
			Name:      p.artifact,
			Version:   p.version,
			Metadata:  map[string]string{"evidence": evidencePom},
		}
		if own.describes(p, len(poms) == 1) {
			described = true
			pkg.Licenses = lic
		}
		out = append(out, pkg)
	}
	if !described && own.complete() {
		out = append(out, inventory.Package{
			Namespace: own.group,
			Name:      own.name,
			Version:   own.version,
			Licenses:  lic,
			Metadata:  map[string]string{"evidence": own.evidence},
		})
	}
	return out
}

// identity is an archive's coordinate as inferred from its manifest and
// file name.
type identity struct {
	group, name, version string
	evidence             string
}

func (id identity) complete() bool { return id.name != "" && id.version != "" }

// describes reports whether pom.properties p is the archive itself rather
// than a library shaded into it.
//
// A lone pom.properties usually is, even under a renamed file: Debian's
// "maven3-core.jar" holds org.apache.maven:maven-core, and
// "geronimo-interceptor-3.0-spec.jar" holds geronimo-interceptor_3.0_spec
// 1.0.1. It is not when name and version both disagree: Debian's guice.jar
// (Guice 4.2.3) carries only the pom.properties of the cglib it shades.
func (id identity) describes(p pomProps, lone bool) bool {
	if id.name == "" {
		return lone
	}
	if strings.EqualFold(id.name, p.artifact) {
		return true
	}
	a, b := strings.ToLower(id.name), strings.ToLower(p.artifact)
	related := strings.Contains(a, b) || strings.Contains(b, a)
	if lone {
		return related || id.version == p.version
	}
	if id.version != p.version {
		return false
	}
	// A name taken from the manifest is a module or bundle name
	// ("org.apache.commons.io" for commons-io), not an artifactId, so the
	// same version is the evidence that counts.
	if id.evidence == evidenceManifest {
		return true
	}
	// "guava-31.1-jre.jar", a renamed "foo-bar-1.0.jar" for foo-bar-core, or
	// the bundle name "interpolation" for plexus-interpolation.
	return related
}

// ownIdentity infers the archive's coordinate. The file name wins for
// the artifactId and version when it has Maven's "<artifact>-<version>"
// shape: manifest titles are often prose ("Apache Commons IO") or module
// names. Otherwise the manifest supplies them.
func ownIdentity(fileName string, mf *manifest) identity {
	fname, fversion := splitFilename(fileName)
	id := identity{name: fname, version: fversion, evidence: evidenceFilename}
	if fversion == "" {
		if n := manifestArtifact(mf); n != "" {
			id.name = n
		}
		id.version = manifestVersion(mf)
		id.evidence = evidenceManifest
	}
	if id.complete() {
		id.group = inferGroup(id.name, mf)
		if id.group == "" {
			// Nothing names the group. Many old artifacts use their
			// artifactId as groupId (aopalliance, commons-io); guessing
			// that keeps the PURL valid (Maven PURLs need a namespace) and
			// can only add matches, never match another project's advisory.
			id.group = id.name
		}
	}
	return id
}

var (
	artifactRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._+-]*$`)
	groupRE    = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]*$`)
	tokenRE    = regexp.MustCompile(`[A-Za-z0-9_.-]+`)
)

func validArtifact(s string) bool { return len(s) <= 200 && artifactRE.MatchString(s) }

func validVersion(s string) bool {
	return s != "" && len(s) <= 128 && s[0] >= '0' && s[0] <= '9' && !strings.ContainsAny(s, "${}")
}

// manifestArtifact picks an artifactId from the manifest: a Jenkins
// plugin's Short-Name, the last part of a Bundle-SymbolicName written by
// the Maven bundle plugin (which builds it as groupId.artifactId), then
// the titles.
func manifestArtifact(mf *manifest) string {
	if mf == nil {
		return ""
	}
	if s := mf.get("Short-Name"); validArtifact(s) {
		return s
	}
	if strings.HasPrefix(mf.get("Created-By"), "Apache Maven Bundle Plugin") {
		bsn := cleanID(mf.get("Bundle-SymbolicName"))
		if s := bsn[strings.LastIndexByte(bsn, '.')+1:]; validArtifact(s) {
			return s
		}
	}
	for _, k := range []string{"Implementation-Title", "Specification-Title", "Bundle-Name", "Extension-Name"} {
		if s := mf.get(k); validArtifact(s) {
			return s
		}
	}
	return ""
}

// manifestVersion takes the first word of the first version header, so
// that "1.4 1855 April 22 2006" (Apache Axis) is 1.4. Old manifests put
// the version in a named section only.
func manifestVersion(mf *manifest) string {
	if mf == nil {
		return ""
	}
	keys := []string{"Implementation-Version", "Specification-Version", "Bundle-Version"}
	if mf.get("Short-Name") != "" {
		keys = append([]string{"Plugin-Version"}, keys...)
	}
	for _, k := range keys {
		if v := firstWord(mf.get(k)); validVersion(v) {
			return v
		}
	}
	for _, s := range mf.sections {
		if v := firstWord(s["implementation-version"]); validVersion(v) {
			return v
		}
	}
	return ""
}

func firstWord(s string) string {
	if f := strings.Fields(s); len(f) > 0 {
		return f[0]
	}
	return ""
}

// splitFilename splits "commons-io-2.11.0.jar" into its artifactId and
// version. The version starts at the first dash followed by a digit,
// unless a word that is not a version qualifier follows and is itself
// followed by a number: "log4j-1.2-api-2.17.1.jar" is log4j-1.2-api
// 2.17.1, "guava-31.1-jre.jar" is guava 31.1-jre.
func splitFilename(base string) (name, version string) {
	if i := strings.LastIndexByte(base, '.'); i > 0 && isArchive(base) {
		base = base[:i]
	}
	parts := strings.Split(base, "-")
	for i := 1; i < len(parts); i++ {
		if !startsWithDigit(parts[i]) {
			continue
		}
		ok := true
		for j := i + 1; j < len(parts)-1; j++ {
			if startsWithLetter(parts[j]) && !versionWords[strings.ToLower(parts[j])] && startsWithDigit(parts[j+1]) {
				ok = false
				break
			}
		}
		if ok {
			name, version = strings.Join(parts[:i], "-"), strings.Join(parts[i:], "-")
			if validArtifact(name) && validVersion(version) {
				return name, version
			}
			break
		}
	}
	if validArtifact(base) {
		return base, ""
	}
	return "", ""
}

// versionWords may appear inside a version: "1.0-rc-1", "2.0-M-3".
var versionWords = map[string]bool{
	"alpha": true, "beta": true, "rc": true, "cr": true, "m": true, "milestone": true,
	"sp": true, "ea": true, "b": true, "build": true, "snapshot": true, "final": true,
	"release": true, "ga": true, "preview": true, "pre": true, "patch": true, "r": true,
	"incubating": true, "dev": true,
}

func startsWithDigit(s string) bool { return s != "" && s[0] >= '0' && s[0] <= '9' }

func startsWithLetter(s string) bool {
	return s != "" && (s[0] >= 'a' && s[0] <= 'z' || s[0] >= 'A' && s[0] <= 'Z')
}

// inferGroup guesses the groupId of an archive that has no
// pom.properties. Maven advisories are keyed "groupId:artifactId", so a
// guess is worth making, but only from evidence: an explicit header, a
// table of well-known artifacts, a dotted artifactId, then identifier-like
// manifest headers. It returns "" rather than invent one from nothing.
func inferGroup(artifact string, mf *manifest) string {
	if g := cleanID(mf.get("Group-Id")); validGroup(g) { // Jenkins plugins
		return g
	}
	if g := knownGroup(artifact); g != "" {
		return g
	}
	// "org.eclipse.sisu.inject" is published as org.eclipse.sisu:org.eclipse.sisu.inject.
	if i := strings.LastIndexByte(artifact, '.'); i > 0 && hasTLD(artifact) && validGroup(artifact[:i]) {
		return artifact[:i]
	}
	if mf == nil {
		return ""
	}
	if g := cleanID(mf.get("Bundle-SymbolicName")); validGroup(g) && strings.Contains(g, ".") {
		// The bundle plugin writes groupId.artifactId, or just groupId
		// when the artifactId repeats its last part. A last part with a
		// dash is an artifactId ("com.fasterxml.jackson.core.jackson-databind").
		i := strings.LastIndexByte(g, '.')
		if g[i+1:] == artifact && strings.Contains(artifact, "-") {
			return g[:i]
		}
		return g
	}
	if g := cleanID(mf.get("Implementation-Vendor-Id")); validGroup(g) {
		return g
	}
	if g := cleanID(mf.get("Extension-Name")); validGroup(g) && strings.Contains(g, ".") {
		return g
	}
	// Free-text headers count only when they start like a reversed domain.
	if g := tokenRE.FindString(mf.get("Implementation-Title")); validGroup(g) && hasTLD(g) {
		return g
	}
	for _, k := range []string{"Automatic-Module-Name", "Specification-Vendor", "Implementation-Vendor"} {
		if g := cleanID(mf.get(k)); validGroup(g) && hasTLD(g) {
			return g
		}
	}
	return ""
}

// cleanID drops OSGi directives ("org.foo;singleton:=true") and
// Gradle-style suffixes ("org.elasticsearch#server;8.14.3").
func cleanID(s string) string {
	s, _, _ = strings.Cut(s, ";")
	s, _, _ = strings.Cut(s, "#")
	return strings.TrimSpace(s)
}

func validGroup(s string) bool {
	return len(s) <= 200 && groupRE.MatchString(s) && !strings.Contains(s, "..") &&
		!strings.HasSuffix(s, ".")
}

// hasTLD reports whether s is dotted and starts with a top-level domain
// or one of the Java namespaces groupIds use.
func hasTLD(s string) bool {
	first, _, ok := strings.Cut(s, ".")
	return ok && tlds[strings.ToLower(first)]
}

var tlds = map[string]bool{
	"com": true, "org": true, "net": true, "io": true, "edu": true, "gov": true, "dev": true,
	"ai": true, "co": true, "me": true, "info": true, "biz": true, "app": true, "cloud": true,
	"tech": true, "eu": true, "uk": true, "de": true, "fr": true, "nl": true, "be": true,
	"ch": true, "at": true, "se": true, "no": true, "dk": true, "fi": true, "it": true,
	"es": true, "pl": true, "cz": true, "ru": true, "jp": true, "cn": true, "kr": true,
	"in": true, "br": true, "au": true, "ca": true, "us": true, "javax": true, "jakarta": true,
}
