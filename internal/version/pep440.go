package version

import "strings"

// pep440Version is a Python package version, ordered by PEP 440 as the
// packaging library orders it.
//
// Parsing normalises as PEP 440 asks: case does not matter, a leading "v"
// and surrounding space are dropped, "-", "_" and "." separate the same
// way, "alpha", "beta", "c", "pre" and "preview" are a, b, rc, rc and rc,
// "rev" and "r" are post, "1.0-1" is 1.0.post1, and a missing pre, post or
// dev number is 0. Release numbers may have any length and trailing zeros
// do not count (1.0 = 1.0.0).
//
// A string that is not a PEP 440 version is a legacy version, ordered
// before every PEP 440 version and among legacy ones as setuptools'
// LegacyVersion (packaging before 22.0) ordered them. PyPI still serves
// such versions of old releases, and OSV's fixtures include them.
type pep440Version struct {
	s       string
	legacy  []string // the legacy sort key; nil for a PEP 440 version
	epoch   string   // digits; "" means 0
	release string   // digits separated by "."
	preKind int      // 0 for none, else one of pep440Alpha, pep440Beta, pep440RC
	preNum  string
	hasPost bool
	postNum string
	hasDev  bool
	devNum  string
	local   string // "" for none
}

const (
	pep440Alpha = 1 + iota
	pep440Beta
	pep440RC
)

// Spellings of the pre-release kinds, longest first where one spelling
// starts another.
var pep440PreWords = [...]struct {
	word string
	kind int
}{
	{"preview", pep440RC}, {"alpha", pep440Alpha}, {"beta", pep440Beta},
	{"pre", pep440RC}, {"rc", pep440RC}, {"a", pep440Alpha},
	{"b", pep440Beta}, {"c", pep440RC},
}

var pep440PostWords = [...]string{"post", "rev", "r"}

func parsePEP440(s string) (pep440Version, error) {
	v := pep440Version{s: s}
	t := strings.TrimSpace(s)
	if t == "" {
		return v, invalid("PEP 440", s, "empty")
	}
	if !v.parse(t) {
		v = pep440Version{s: s, legacy: pep440LegacyKey(t)}
	}
	return v, nil
}

// pep440Sep drops one optional separator.
func pep440Sep(t string) string {
	if t != "" && (t[0] == '-' || t[0] == '_' || t[0] == '.') {
		return t[1:]
	}
	return t
}

// hasPrefixFold reports whether t starts with the lower-case word, in any
// case.
func hasPrefixFold(t, word string) bool {
	return len(t) >= len(word) && compareFoldASCII(t[:len(word)], word) == 0
}

// parse fills v from t if t is a PEP 440 version and reports whether it
// was. It follows the regular expression of PEP 440's appendix B; where
// that expression could match a separator in two places, taking it in the
// earlier one never loses a match.
func (v *pep440Version) parse(t string) bool {
	if t != "" && (t[0] == 'v' || t[0] == 'V') {
		t = t[1:]
	}
	n := digitRun(t)
	if n == 0 {
		return false
	}
	if n < len(t) && t[n] == '!' {
		v.epoch, t = t[:n], t[n+1:]
		if n = digitRun(t); n == 0 {
			return false
		}
	}
	for n+1 < len(t) && t[n] == '.' && isDigit(t[n+1]) {
		n += 1 + digitRun(t[n+1:])
	}
	v.release, t = t[:n], t[n:]

	if u := pep440Sep(t); u != "" {
		for _, p := range pep440PreWords {
			if hasPrefixFold(u, p.word) {
				v.preKind = p.kind
				u = pep440Sep(u[len(p.word):])
				n := digitRun(u)
				v.preNum, t = u[:n], u[n:]
				break
			}
		}
	}

	if len(t) > 1 && t[0] == '-' && isDigit(t[1]) {
		n := 1 + digitRun(t[1:])
		v.hasPost, v.postNum, t = true, t[1:n], t[n:]
	} else if u := pep440Sep(t); u != "" {
		for _, w := range pep440PostWords {
			if hasPrefixFold(u, w) {
				u = pep440Sep(u[len(w):])
				n := digitRun(u)
				v.hasPost, v.postNum, t = true, u[:n], u[n:]
				break
			}
		}
	}

	if u := pep440Sep(t); hasPrefixFold(u, "dev") {
		u = pep440Sep(u[3:])
		n := digitRun(u)
		v.hasDev, v.devNum, t = true, u[:n], u[n:]
	}

	if t != "" && t[0] == '+' {
		v.local, t = t[1:], ""
		if !pep440Local(v.local) {
			return false
		}
	}
	return t == ""
}

// pep440Local reports whether s is a valid local version label: ASCII
// letters and digits in segments separated by one of "-", "_" or ".".
func pep440Local(s string) bool {
	empty := true
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case isAlnum(c):
			empty = false
		case c == '-' || c == '_' || c == '.':
			if empty {
				return false
			}
			empty = true
		default:
			return false
		}
	}
	return !empty
}

// The ranks of the pre-release part of the sort key.
const (
	pep440DevOnly = 0 // a dev release with no pre or post: before any pre
	pep440NoPre   = 4 // after every pre-release
)

func (v pep440Version) preRank() int {
	switch {
	case v.preKind != 0:
		return v.preKind
	case !v.hasPost && v.hasDev:
		return pep440DevOnly
	}
	return pep440NoPre
}

func (v pep440Version) cmp(w pep440Version) int {
	switch {
	case v.legacy != nil && w.legacy != nil:
		return compareLegacyKeys(v.legacy, w.legacy)
	case v.legacy != nil:
		return -1
	case w.legacy != nil:
		return 1
	}
	if c := compareNumeric(v.epoch, w.epoch); c != 0 {
		return c
	}
	if c := comparePEP440Release(v.release, w.release); c != 0 {
		return c
	}
	pv, pw := v.preRank(), w.preRank()
	if pv != pw {
		return sign(pv - pw)
	}
	if v.preKind != 0 {
		if c := compareNumeric(v.preNum, w.preNum); c != 0 {
			return c
		}
	}
	switch {
	case v.hasPost && !w.hasPost:
		return 1
	case !v.hasPost && w.hasPost:
		return -1
	case v.hasPost:
		if c := compareNumeric(v.postNum, w.postNum); c != 0 {
			return c
		}
	}
	switch {
	case v.hasDev && !w.hasDev:
		return -1
	case !v.hasDev && w.hasDev:
		return 1
	case v.hasDev:
		if c := compareNumeric(v.devNum, w.devNum); c != 0 {
			return c
		}
	}
	return comparePEP440Local(v.local, w.local)
}

// comparePEP440Release compares dot-separated release numbers; the shorter
// release counts as padded with zeros.
func comparePEP440Release(a, b string) int {
	for a != "" || b != "" {
		var x, y string
		x, a, _ = strings.Cut(a, ".")
		y, b, _ = strings.Cut(b, ".")
		if c := compareNumeric(x, y); c != 0 {
			return c
		}
	}
	return 0
}

// comparePEP440Local compares local version labels: no label sorts first;
// segments compare in turn, numbers numerically and after strings, which
// compare without regard to case; a label that is a prefix of the other
// sorts first.
func comparePEP440Local(a, b string) int {
	switch {
	case a == "" && b == "":
		return 0
	case a == "":
		return -1
	case b == "":
		return 1
	}
	for a != "" || b != "" {
		if a == "" {
			return -1
		}
		if b == "" {
			return 1
		}
		var x, y string
		x, a = cutLocal(a)
		y, b = cutLocal(b)
		nx, ny := allDigits(x), allDigits(y)
		var c int
		switch {
		case nx && ny:
			c = compareNumeric(x, y)
		case nx:
			c = 1
		case ny:
			c = -1
		default:
			c = compareFoldASCII(x, y)
		}
		if c != 0 {
			return c
		}
	}
	return 0
}

func cutLocal(s string) (seg, rest string) {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '-' || c == '_' || c == '.' {
			return s[:i], s[i+1:]
		}
	}
	return s, ""
}

// pep440LegacyKey builds the sort key of a legacy version as packaging's
// _legacy_cmpkey did: the lower-cased version splits into runs of digits,
// runs of letters, "." and "-" (and the text between those); numbers are
// zero-padded to eight digits, everything else is prefixed with "*", with
// some words respelled so that pre-releases sort before "*final".
func pep440LegacyKey(t string) []string {
	var parts []string
	add := func(part string) {
		if part[0] == '*' {
			if part < "*final" {
				for len(parts) > 0 && parts[len(parts)-1] == "*final-" {
					parts = parts[:len(parts)-1]
				}
			}
			for len(parts) > 0 && parts[len(parts)-1] == "00000000" {
				parts = parts[:len(parts)-1]
			}
		}
		parts = append(parts, part)
	}
	for i := 0; i < len(t); {
		c := lower(t[i])
		j := i + 1
		switch {
		case isDigit(c):
			for j < len(t) && isDigit(t[j]) {
				j++
			}
			num := t[i:j]
			if len(num) < 8 {
				num = strings.Repeat("0", 8-len(num)) + num
			}
			add(num)
		case 'a' <= c && c <= 'z':
			for j < len(t) && isAlpha(t[j]) {
				j++
			}
			word := strings.ToLower(t[i:j])
			switch word {
			case "pre", "preview", "rc":
				word = "c"
			case "dev":
				word = "@"
			}
			add("*" + word)
		case c == '.':
		case c == '-':
			add("*final-")
		default:
			for j < len(t) && !isAlnum(t[j]) && t[j] != '.' && t[j] != '-' {
				j++
			}
			add("*" + strings.ToLower(t[i:j]))
		}
		i = j
	}
	add("*final")
	return parts
}

func compareLegacyKeys(a, b []string) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		if c := strings.Compare(a[i], b[i]); c != 0 {
			return c
		}
	}
	return sign(len(a) - len(b))
}

func parsePEP440Version(s string) (Version, error) {
	v, err := parsePEP440(s)
	if err != nil {
		return nil, err
	}
	return v, nil
}

func comparePEP440(a, b string) (int, error) {
	va, err := parsePEP440(a)
	if err != nil {
		return 0, err
	}
	vb, err := parsePEP440(b)
	if err != nil {
		return 0, err
	}
	return va.cmp(vb), nil
}

func (v pep440Version) String() string { return v.s }

func (v pep440Version) Compare(w Version) int {
	if w, ok := w.(pep440Version); ok {
		return v.cmp(w)
	}
	return compareOther(v, w)
}

var _ Version = pep440Version{}
