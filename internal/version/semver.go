package version

import "strings"

// semverVersion is a Semantic Versioning 2.0.0 version, as used by npm,
// crates.io, Go modules, Hex and OSV's SEMVER ranges.
//
// Parsing is as lenient as OSV's: a leading "v" is dropped, a missing minor
// or patch number is 0 ("1.2" is 1.2.0), numbers may have leading zeros and
// any length, and numeric components past the third ("1.2.3.4") are
// ignored. Build metadata, including Go's "+incompatible", never affects
// the order. Go pseudo-versions need no special case: their prerelease
// ("0.20210101000000-abcdef123456") sorts after the tag they follow and
// before every other prerelease of the next version.
type semverVersion struct {
	s                   string
	major, minor, patch string // digits; "" means 0
	pre                 string // prerelease identifiers, without the "-"
	hasPre              bool
	build               string // build identifiers, without the "+"
	hasBuild            bool
}

func parseSemver(s string) (semverVersion, error) {
	v := semverVersion{s: s}
	t := strings.TrimSpace(s)
	if t != "" && (t[0] == 'v' || t[0] == 'V') {
		t = t[1:]
	}
	var nums [3]string
	for i := 0; ; i++ {
		n := digitRun(t)
		if n == 0 {
			if i == 0 {
				return v, invalid("SemVer", s, "no major version number")
			}
			return v, invalid("SemVer", s, "empty version number")
		}
		if i < len(nums) {
			nums[i] = t[:n]
		}
		t = t[n:]
		if t == "" || t[0] != '.' {
			break
		}
		t = t[1:]
	}
	v.major, v.minor, v.patch = nums[0], nums[1], nums[2]
	switch {
	case t != "" && t[0] == '-':
		v.hasPre = true
		v.pre, v.build, v.hasBuild = strings.Cut(t[1:], "+")
		if !semverIdentifiers(v.pre) {
			return v, invalid("SemVer", s, "bad prerelease")
		}
		t = ""
	case t != "" && t[0] == '+':
		v.build, v.hasBuild, t = t[1:], true, ""
	}
	if v.hasBuild && !semverIdentifiers(v.build) {
		return v, invalid("SemVer", s, "bad build metadata")
	}
	if t != "" {
		return v, invalid("SemVer", s, "unexpected "+quoteByte(t[0]))
	}
	return v, nil
}

// semverIdentifiers reports whether s is a dot-separated list of non-empty
// identifiers made of ASCII letters, digits and hyphens.
func semverIdentifiers(s string) bool {
	if s == "" {
		return false
	}
	empty := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '.':
			if empty {
				return false
			}
			empty = true
		case isAlnum(c) || c == '-':
			empty = false
		default:
			return false
		}
	}
	return !empty
}

func quoteByte(c byte) string {
	if c < 0x20 || c >= 0x7f {
		return "byte"
	}
	return "'" + string(rune(c)) + "'"
}

func (v semverVersion) cmp(w semverVersion) int {
	if c := compareNumeric(v.major, w.major); c != 0 {
		return c
	}
	if c := compareNumeric(v.minor, w.minor); c != 0 {
		return c
	}
	if c := compareNumeric(v.patch, w.patch); c != 0 {
		return c
	}
	switch {
	case v.hasPre && !w.hasPre:
		return -1
	case !v.hasPre && w.hasPre:
		return 1
	}
	return compareIdentifiers(v.pre, w.pre, strings.Compare)
}

// compareIdentifiers compares dot-separated identifier lists as SemVer
// compares prereleases: numeric identifiers numerically and before
// alphanumeric ones, which compare with cmpText; a list that is a prefix
// of the other sorts first.
func compareIdentifiers(a, b string, cmpText func(a, b string) int) int {
	for a != "" || b != "" {
		if a == "" {
			return -1
		}
		if b == "" {
			return 1
		}
		var x, y string
		x, a, _ = strings.Cut(a, ".")
		y, b, _ = strings.Cut(b, ".")
		nx, ny := allDigits(x), allDigits(y)
		var c int
		switch {
		case nx && ny:
			c = compareNumeric(x, y)
		case nx:
			c = -1
		case ny:
			c = 1
		default:
			c = cmpText(x, y)
		}
		if c != 0 {
			return c
		}
	}
	return 0
}

// pubVersion is a Dart Pub version: SemVer, except that build metadata
// counts. A version with build metadata sorts after the same version
// without, and build identifiers compare like prerelease identifiers.
type pubVersion struct{ semverVersion }

func parsePub(s string) (pubVersion, error) {
	v, err := parseSemver(s)
	return pubVersion{v}, err
}

func (v pubVersion) cmp(w pubVersion) int {
	if c := v.semverVersion.cmp(w.semverVersion); c != 0 {
		return c
	}
	switch {
	case !v.hasBuild && w.hasBuild:
		return -1
	case v.hasBuild && !w.hasBuild:
		return 1
	}
	return compareIdentifiers(v.build, w.build, strings.Compare)
}

func parseSemverVersion(s string) (Version, error) {
	v, err := parseSemver(s)
	if err != nil {
		return nil, err
	}
	return v, nil
}

func compareSemver(a, b string) (int, error) {
	va, err := parseSemver(a)
	if err != nil {
		return 0, err
	}
	vb, err := parseSemver(b)
	if err != nil {
		return 0, err
	}
	return va.cmp(vb), nil
}

func (v semverVersion) String() string { return v.s }

func (v semverVersion) Compare(w Version) int {
	if w, ok := w.(semverVersion); ok {
		return v.cmp(w)
	}
	return compareOther(v, w)
}

func parsePubVersion(s string) (Version, error) {
	v, err := parsePub(s)
	if err != nil {
		return nil, err
	}
	return v, nil
}

func comparePub(a, b string) (int, error) {
	va, err := parsePub(a)
	if err != nil {
		return 0, err
	}
	vb, err := parsePub(b)
	if err != nil {
		return 0, err
	}
	return va.cmp(vb), nil
}

func (v pubVersion) Compare(w Version) int {
	if w, ok := w.(pubVersion); ok {
		return v.cmp(w)
	}
	return compareOther(v, w)
}

var (
	_ Version = semverVersion{}
	_ Version = pubVersion{}
)
