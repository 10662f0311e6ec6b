package version

import "strings"

// numericVersion is a list of non-negative integers, compared element by
// element; when one list is a prefix of the other, the longer is newer, so
// 1.0 < 1.0.0. R's package_version (CRAN, with "." or "-" between numbers)
// and Haskell's Data.Version (Hackage and GHC, "." only) order versions
// this way.
type numericVersion struct {
	s    string
	nums string // the trimmed version; every separator is one byte
}

func parseNumeric(scheme, s string, dash bool) (numericVersion, error) {
	t := strings.TrimSpace(s)
	v := numericVersion{s: s, nums: t}
	for {
		n := digitRun(t)
		if n == 0 {
			return v, invalid(scheme, s, "expected a number")
		}
		t = t[n:]
		if t == "" {
			return v, nil
		}
		if t[0] != '.' && (!dash || t[0] != '-') {
			return v, invalid(scheme, s, "unexpected "+quoteByte(t[0]))
		}
		t = t[1:]
	}
}

func parseCRAN(s string) (numericVersion, error)    { return parseNumeric("CRAN", s, true) }
func parseHackage(s string) (numericVersion, error) { return parseNumeric("Hackage", s, false) }

func (v numericVersion) cmp(w numericVersion) int {
	a, b := v.nums, w.nums
	for a != "" && b != "" {
		na, nb := digitRun(a), digitRun(b)
		if c := compareNumeric(a[:na], b[:nb]); c != 0 {
			return c
		}
		a, b = a[min(na+1, len(a)):], b[min(nb+1, len(b)):]
	}
	switch {
	case a == "" && b == "":
		return 0
	case a == "":
		return -1
	}
	return 1
}

func parseCRANVersion(s string) (Version, error) {
	v, err := parseCRAN(s)
	if err != nil {
		return nil, err
	}
	return v, nil
}

func parseHackageVersion(s string) (Version, error) {
	v, err := parseHackage(s)
	if err != nil {
		return nil, err
	}
	return v, nil
}

func compareNumericWith(parse func(string) (numericVersion, error), a, b string) (int, error) {
	va, err := parse(a)
	if err != nil {
		return 0, err
	}
	vb, err := parse(b)
	if err != nil {
		return 0, err
	}
	return va.cmp(vb), nil
}

func compareCRAN(a, b string) (int, error)    { return compareNumericWith(parseCRAN, a, b) }
func compareHackage(a, b string) (int, error) { return compareNumericWith(parseHackage, a, b) }

func (v numericVersion) String() string { return v.s }

func (v numericVersion) Compare(w Version) int {
	if w, ok := w.(numericVersion); ok {
		return v.cmp(w)
	}
	return compareOther(v, w)
}

var _ Version = numericVersion{}
