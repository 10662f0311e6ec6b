package version

import "strings"

// nugetVersion is a NuGet version: SemVer 2.0.0 with up to four numbers
// (the fourth is the legacy revision), ordered as NuGet's default
// VersionComparer orders it. Missing numbers are 0, prerelease labels
// compare without regard to case, and metadata after "+" is ignored.
// Numbers may have any length; NuGet itself would reject those past
// 2^31-1.
type nugetVersion struct {
	s      string
	nums   [4]string // digits; "" means 0
	pre    string
	hasPre bool
}

func parseNuGet(s string) (nugetVersion, error) {
	v := nugetVersion{s: s}
	t := strings.TrimSpace(s)
	for i := 0; ; i++ {
		n := digitRun(t)
		if n == 0 {
			return v, invalid("NuGet", s, "expected a number")
		}
		if i == len(v.nums) {
			return v, invalid("NuGet", s, "more than four numbers")
		}
		v.nums[i], t = t[:n], t[n:]
		if t == "" || t[0] != '.' {
			break
		}
		t = t[1:]
	}
	var build string
	var hasBuild bool
	switch {
	case t != "" && t[0] == '-':
		v.hasPre = true
		v.pre, build, hasBuild = strings.Cut(t[1:], "+")
		if !semverIdentifiers(v.pre) {
			return v, invalid("NuGet", s, "bad release label")
		}
		t = ""
	case t != "" && t[0] == '+':
		build, hasBuild, t = t[1:], true, ""
	}
	if hasBuild && !semverIdentifiers(build) {
		return v, invalid("NuGet", s, "bad metadata")
	}
	if t != "" {
		return v, invalid("NuGet", s, "unexpected "+quoteByte(t[0]))
	}
	return v, nil
}

func (v nugetVersion) cmp(w nugetVersion) int {
	for i := range v.nums {
		if c := compareNumeric(v.nums[i], w.nums[i]); c != 0 {
			return c
		}
	}
	switch {
	case v.hasPre && !w.hasPre:
		return -1
	case !v.hasPre && w.hasPre:
		return 1
	}
	return compareIdentifiers(v.pre, w.pre, compareFoldASCII)
}

func parseNuGetVersion(s string) (Version, error) {
	v, err := parseNuGet(s)
	if err != nil {
		return nil, err
	}
	return v, nil
}

func compareNuGet(a, b string) (int, error) {
	va, err := parseNuGet(a)
	if err != nil {
		return 0, err
	}
	vb, err := parseNuGet(b)
	if err != nil {
		return 0, err
	}
	return va.cmp(vb), nil
}

func (v nugetVersion) String() string { return v.s }

func (v nugetVersion) Compare(w Version) int {
	if w, ok := w.(nugetVersion); ok {
		return v.cmp(w)
	}
	return compareOther(v, w)
}

var _ Version = nugetVersion{}
