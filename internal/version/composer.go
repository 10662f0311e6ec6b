package version

import "strings"

// composerVersion is a Packagist (Composer) version, ordered as PHP's
// version_compare orders it after a leading "v" or "V" is dropped; that is
// how OSV and Packagist's advisory data order versions.
//
// The version splits into components at ".", "-", "_" and "+" (a run of
// them counts once) and wherever digits meet non-digits, so "1.0RC1" is
// 1.0.RC.1. Numbers compare numerically (of any length). Other components
// rank by prefix: "dev" < "alpha" = "a" < "beta" = "b" < "RC" = "rc" <
// a number < "pl" = "p"; anything else ranks below "dev", and so does an
// empty component left by a leading or trailing separator. When one
// version runs out, the other is newer if it goes on with a number;
// otherwise its remaining components rank against a number, so 1.0 <
// 1.0pl1 but 1.0rc1 < 1.0. A "dev-" branch such as "dev-main" therefore
// sorts before every release.
//
// Unlike version_compare, characters other than letters, digits and the
// separators stay inside their component rather than turning into
// separators, so that "#" ranks as a number ("1.2.3.#" = "1.2.3.1"), as
// OSV's fixtures expect. Composer's own normalisation, which pads versions
// to four numbers, is not applied: OSV orders "1.0.0" after "1.0".
type composerVersion struct {
	s string
	t string // trimmed, without the leading "v"
}

func parseComposer(s string) (composerVersion, error) {
	t := strings.TrimSpace(s)
	if t != "" && (t[0] == 'v' || t[0] == 'V') {
		t = t[1:]
	}
	if t == "" {
		return composerVersion{s, t}, invalid("Composer", s, "empty")
	}
	return composerVersion{s, t}, nil
}

func composerSeparator(c byte) bool { return c == '.' || c == '-' || c == '_' || c == '+' }

// composerComponents walks the components of a version.
type composerComponents struct {
	rest string
	done bool
}

func (c *composerComponents) next() (string, bool) {
	if c.done {
		return "", false
	}
	s := c.rest
	i := 0
	if s != "" && isDigit(s[0]) {
		i = digitRun(s)
	} else {
		for i < len(s) && !isDigit(s[i]) && !composerSeparator(s[i]) {
			i++
		}
	}
	comp, rest := s[:i], s[i:]
	if rest == "" {
		c.done = true
		return comp, true
	}
	// Skip the separators; after trailing ones comes an empty component.
	j := 0
	for j < len(rest) && composerSeparator(rest[j]) {
		j++
	}
	c.rest = rest[j:]
	return comp, true
}

// composerRank ranks a component that is not a number.
func composerRank(s string) int {
	switch {
	case strings.HasPrefix(s, "dev"):
		return 0
	case strings.HasPrefix(s, "a"):
		return 1
	case strings.HasPrefix(s, "b"):
		return 2
	case strings.HasPrefix(s, "RC"), strings.HasPrefix(s, "rc"):
		return 3
	case strings.HasPrefix(s, "#"):
		return composerNumberRank
	case strings.HasPrefix(s, "p"):
		return 5
	}
	return -1
}

// composerNumberRank is where numbers rank among the named components.
const composerNumberRank = 4

func isNumberComponent(s string) bool { return s != "" && isDigit(s[0]) }

func composerCompare(a, b string) int {
	ca, cb := composerComponents{rest: a}, composerComponents{rest: b}
	for {
		x, okx := ca.next()
		y, oky := cb.next()
		switch {
		case !okx && !oky:
			return 0
		case !oky:
			return composerTail(x, &ca)
		case !okx:
			return -composerTail(y, &cb)
		}
		nx, ny := isNumberComponent(x), isNumberComponent(y)
		var c int
		switch {
		case nx && ny:
			c = compareNumeric(x, y)
		case nx:
			c = sign(composerNumberRank - composerRank(y))
		case ny:
			c = sign(composerRank(x) - composerNumberRank)
		default:
			c = sign(composerRank(x) - composerRank(y))
		}
		if c != 0 {
			return c
		}
	}
}

// composerTail orders what is left of the longer version, starting with
// component x, against the end of the shorter one.
func composerTail(x string, rest *composerComponents) int {
	for ok := true; ok; x, ok = rest.next() {
		if isNumberComponent(x) {
			return 1
		}
		if c := sign(composerRank(x) - composerNumberRank); c != 0 {
			return c
		}
	}
	return 0
}

func parseComposerVersion(s string) (Version, error) {
	v, err := parseComposer(s)
	if err != nil {
		return nil, err
	}
	return v, nil
}

func compareComposer(a, b string) (int, error) {
	va, err := parseComposer(a)
	if err != nil {
		return 0, err
	}
	vb, err := parseComposer(b)
	if err != nil {
		return 0, err
	}
	return composerCompare(va.t, vb.t), nil
}

func (v composerVersion) String() string { return v.s }

func (v composerVersion) Compare(w Version) int {
	if w, ok := w.(composerVersion); ok {
		return composerCompare(v.t, w.t)
	}
	return compareOther(v, w)
}

var _ Version = composerVersion{}
