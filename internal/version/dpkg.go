package version

import "strings"

// dpkgVersion is a Debian version, [epoch:]upstream[-revision], ordered as
// dpkg's lib/dpkg/version.c orders it. See deb-version(7).
type dpkgVersion struct {
	s        string
	epoch    string // digits; "" means 0
	upstream string
	revision string
}

func parseDpkg(s string) (dpkgVersion, error) {
	v := dpkgVersion{s: s}
	t := strings.TrimSpace(s)
	if t == "" {
		return v, invalid("dpkg", s, "empty")
	}
	if strings.ContainsAny(t, " \t\n\r\v\f") {
		return v, invalid("dpkg", s, "embedded space")
	}
	if i := strings.IndexByte(t, ':'); i >= 0 {
		v.epoch = t[:i]
		if !allDigits(v.epoch) {
			return v, invalid("dpkg", s, "epoch is not a number")
		}
		t = t[i+1:]
	}
	v.upstream = t
	if i := strings.LastIndexByte(t, '-'); i >= 0 {
		v.upstream, v.revision = t[:i], t[i+1:]
		if v.revision == "" {
			return v, invalid("dpkg", s, "empty revision")
		}
	}
	if v.upstream == "" {
		return v, invalid("dpkg", s, "empty upstream version")
	}
	return v, nil
}

func (v dpkgVersion) cmp(w dpkgVersion) int {
	if c := compareNumeric(v.epoch, w.epoch); c != 0 {
		return c
	}
	if c := verrevcmp(v.upstream, w.upstream); c != 0 {
		return c
	}
	return verrevcmp(v.revision, w.revision)
}

// dpkgOrder weighs the byte at s[i] within a non-digit run; the end of the
// string weighs 0. '~' sorts before everything, even the end; letters sort
// before all other characters.
func dpkgOrder(s string, i int) int {
	if i >= len(s) {
		return 0
	}
	c := s[i]
	switch {
	case isDigit(c):
		return 0
	case isAlpha(c):
		return int(c)
	case c == '~':
		return -1
	}
	return int(c) + 256
}

// verrevcmp is dpkg's comparison of an upstream version or a revision:
// alternating non-digit runs, compared by dpkgOrder, and digit runs,
// compared numerically. Digit runs of any length compare correctly.
func verrevcmp(a, b string) int {
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		for (i < len(a) && !isDigit(a[i])) || (j < len(b) && !isDigit(b[j])) {
			ac, bc := dpkgOrder(a, i), dpkgOrder(b, j)
			if ac != bc {
				return sign(ac - bc)
			}
			i++
			j++
		}
		for i < len(a) && a[i] == '0' {
			i++
		}
		for j < len(b) && b[j] == '0' {
			j++
		}
		firstDiff := 0
		for i < len(a) && isDigit(a[i]) && j < len(b) && isDigit(b[j]) {
			if firstDiff == 0 {
				firstDiff = int(a[i]) - int(b[j])
			}
			i++
			j++
		}
		if i < len(a) && isDigit(a[i]) {
			return 1
		}
		if j < len(b) && isDigit(b[j]) {
			return -1
		}
		if firstDiff != 0 {
			return sign(firstDiff)
		}
	}
	return 0
}

func parseDpkgVersion(s string) (Version, error) {
	v, err := parseDpkg(s)
	if err != nil {
		return nil, err
	}
	return v, nil
}

func compareDpkg(a, b string) (int, error) {
	va, err := parseDpkg(a)
	if err != nil {
		return 0, err
	}
	vb, err := parseDpkg(b)
	if err != nil {
		return 0, err
	}
	return va.cmp(vb), nil
}

func (v dpkgVersion) String() string { return v.s }

func (v dpkgVersion) Compare(w Version) int {
	if w, ok := w.(dpkgVersion); ok {
		return v.cmp(w)
	}
	return compareOther(v, w)
}

var _ Version = dpkgVersion{}
