// Package version orders package versions by the rules of each OSV
// ecosystem (dpkg, apk, rpm, SemVer, Go, PEP 440, Maven, RubyGems, NuGet,
// Composer and a few more), so that OSV affected ranges can be evaluated.
package version

import (
	"errors"
	"fmt"
	"strings"
)

// ErrUnknownEcosystem is returned, wrapped, for an ecosystem whose version
// ordering this package does not implement. Callers report such packages as
// not covered rather than skipping them.
var ErrUnknownEcosystem = errors.New("unknown ecosystem")

// Version is a version parsed under one ecosystem's rules.
type Version interface {
	// Compare returns -1, 0 or +1 as the receiver sorts before, equal to or
	// after w. Both should come from Parse with ecosystems that share
	// ordering rules (Debian and Ubuntu do; Debian and PyPI do not). For a
	// w of another scheme Compare does not panic: it orders the two by
	// their String forms, bytewise, which is deterministic but meaningless.
	Compare(w Version) int
	// String returns the version exactly as it was given to Parse.
	String() string
}

// scheme is one set of ordering rules. compare parses and compares two
// strings without boxing them into a Version, which keeps Compare free of
// allocations for most schemes.
type scheme struct {
	parse   func(string) (Version, error)
	compare func(a, b string) (int, error)
}

var (
	dpkgScheme     = scheme{parseDpkgVersion, compareDpkg}
	apkScheme      = scheme{parseApkVersion, compareApk}
	rpmScheme      = scheme{parseRPMVersion, compareRPM}
	semverScheme   = scheme{parseSemverVersion, compareSemver}
	pubScheme      = scheme{parsePubVersion, comparePub}
	pep440Scheme   = scheme{parsePEP440Version, comparePEP440}
	mavenScheme    = scheme{parseMavenVersion, compareMaven}
	rubygemsScheme = scheme{parseGemVersion, compareGem}
	nugetScheme    = scheme{parseNuGetVersion, compareNuGet}
	composerScheme = scheme{parseComposerVersion, compareComposer}
	cranScheme     = scheme{parseCRANVersion, compareCRAN}
	hackageScheme  = scheme{parseHackageVersion, compareHackage}
)

// schemes maps OSV ecosystem names (the part before any ":") to their
// ordering rules. "SEMVER" is not an ecosystem but the OSV range type of
// that name, so that callers can evaluate SEMVER ranges through Parse too.
var schemes = map[string]*scheme{
	"Debian": &dpkgScheme,
	"Ubuntu": &dpkgScheme,

	"Alpine":     &apkScheme,
	"Wolfi":      &apkScheme,
	"Chainguard": &apkScheme,
	"MinimOS":    &apkScheme,

	"Red Hat":     &rpmScheme,
	"AlmaLinux":   &rpmScheme,
	"Rocky Linux": &rpmScheme,
	"SUSE":        &rpmScheme,
	"openSUSE":    &rpmScheme,
	"Azure Linux": &rpmScheme,
	"Mariner":     &rpmScheme,
	"Oracle":      &rpmScheme,
	"Amazon":      &rpmScheme,
	"Fedora":      &rpmScheme,
	"openEuler":   &rpmScheme,
	"Mageia":      &rpmScheme,
	"Photon OS":   &rpmScheme,

	"SEMVER":    &semverScheme,
	"npm":       &semverScheme,
	"crates.io": &semverScheme,
	"Go":        &semverScheme,
	"Hex":       &semverScheme,
	"SwiftURL":  &semverScheme, // Swift packages are versioned by SemVer tags
	"Julia":     &semverScheme, // Pkg.jl versions are SemVer
	"Pub":       &pubScheme,

	"PyPI":      &pep440Scheme,
	"Maven":     &mavenScheme,
	"RubyGems":  &rubygemsScheme,
	"NuGet":     &nugetScheme,
	"Packagist": &composerScheme,
	"CRAN":      &cranScheme,
	"Hackage":   &hackageScheme,
	"GHC":       &hackageScheme,
}

// lookup finds the scheme of an OSV ecosystem such as "Debian:12". Names
// are matched exactly first, then without regard to case.
func lookup(ecosystem string) (*scheme, error) {
	name, _, _ := strings.Cut(ecosystem, ":")
	if s, ok := schemes[name]; ok {
		return s, nil
	}
	name = strings.TrimSpace(name)
	for k, s := range schemes {
		if strings.EqualFold(k, name) {
			return s, nil
		}
	}
	return nil, fmt.Errorf("version ordering for %q: %w", ecosystem, ErrUnknownEcosystem)
}

// Supported reports whether Parse and Compare know the version ordering of
// the OSV ecosystem, such as "PyPI" or "Debian:12".
func Supported(ecosystem string) bool {
	_, err := lookup(ecosystem)
	return err == nil
}

// Parse parses v under the rules of an OSV ecosystem name ("Debian",
// "Debian:12", "Ubuntu:22.04", "Alpine:v3.19", "AlmaLinux:9",
// "Rocky Linux:8", "Red Hat", "openSUSE", "SUSE", "Azure Linux", "npm",
// "crates.io", "Go", "PyPI", "Maven", "RubyGems", "NuGet", "Packagist",
// "Pub", "Hex", "CRAN", "Hackage", and more; see Supported). The part of
// the name after the first ":" is ignored. "SEMVER", the OSV range type,
// is accepted as a name too.
//
// An unknown ecosystem yields an error that wraps ErrUnknownEcosystem; a
// version the ecosystem's rules reject yields some other error.
func Parse(ecosystem, v string) (Version, error) {
	s, err := lookup(ecosystem)
	if err != nil {
		return nil, err
	}
	return s.parse(v)
}

// Compare parses a and b under the rules of ecosystem and returns -1, 0 or
// +1 as a sorts before, equal to or after b.
func Compare(ecosystem, a, b string) (int, error) {
	s, err := lookup(ecosystem)
	if err != nil {
		return 0, err
	}
	return s.compare(a, b)
}

// invalid builds the error for a version that a scheme rejects.
func invalid(scheme, v, why string) error {
	return fmt.Errorf("invalid %s version %q: %s", scheme, v, why)
}

// compareOther orders versions of different schemes by their strings, so
// that Version.Compare never panics.
func compareOther(a, b Version) int {
	if b == nil {
		return 1
	}
	return strings.Compare(a.String(), b.String())
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }
func isAlpha(c byte) bool { return 'a' <= c|0x20 && c|0x20 <= 'z' }
func isAlnum(c byte) bool { return isDigit(c) || isAlpha(c) }
func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// allDigits reports whether s is non-empty and only ASCII digits.
func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}

// digitRun returns the length of the run of ASCII digits at the start of s.
func digitRun(s string) int {
	i := 0
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	return i
}

// compareNumeric compares two strings of ASCII digits as unbounded
// non-negative integers: leading zeros are ignored, a longer number is
// larger, and numbers of one length compare as strings. It never overflows.
func compareNumeric(a, b string) int {
	a = strings.TrimLeft(a, "0")
	b = strings.TrimLeft(b, "0")
	if len(a) != len(b) {
		if len(a) < len(b) {
			return -1
		}
		return 1
	}
	return strings.Compare(a, b)
}

// compareFoldASCII compares two strings bytewise with ASCII letters folded
// to lower case.
func compareFoldASCII(a, b string) int {
	n := min(len(a), len(b))
	for i := 0; i < n; i++ {
		ca, cb := lower(a[i]), lower(b[i])
		if ca != cb {
			if ca < cb {
				return -1
			}
			return 1
		}
	}
	switch {
	case len(a) < len(b):
		return -1
	case len(a) > len(b):
		return 1
	}
	return 0
}

func sign(n int) int {
	switch {
	case n < 0:
		return -1
	case n > 0:
		return 1
	}
	return 0
}
