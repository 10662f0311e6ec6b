package version

import "strings"

// gemVersion is a RubyGems version, ordered as Gem::Version#<=> orders it.
//
// The version splits into segments: runs of digits (numbers) and runs of
// letters (strings); "." only separates, and "-" stands for ".pre.". A
// version with any letter is a prerelease. Trailing zeros are dropped from
// the leading numbers and from the segments after the first string, then
// segments compare in turn, missing ones counting as 0: numbers
// numerically, strings bytewise, and a string before a number, so
// 1.0.a < 1.0 < 1.0.1.
//
// Gem::Version rejects a letter straight after the first number ("1beta");
// like OSV, this accepts it.
type gemVersion struct {
	s    string
	segs []gemSegment
}

type gemSegment struct {
	s   string // digits or letters
	num bool
}

// gemPre is the segment that each "-" stands for.
var gemPre = gemSegment{s: "pre"}

func checkGem(s string) (string, error) {
	t := strings.TrimSpace(s)
	if t == "" {
		return t, invalid("RubyGems", s, "empty")
	}
	if !isDigit(t[0]) {
		return t, invalid("RubyGems", s, "does not start with a number")
	}
	for i := 0; i < len(t); i++ {
		if c := t[i]; !isAlnum(c) && c != '.' && c != '-' {
			return t, invalid("RubyGems", s, "unexpected "+quoteByte(c))
		}
	}
	return t, nil
}

// gemSegments appends the canonical segments of the checked version t to
// buf.
func gemSegments(t string, buf []gemSegment) []gemSegment {
	segs := buf
	firstString := -1
	for i := 0; i < len(t); {
		c := t[i]
		j := i + 1
		switch {
		case isDigit(c):
			for j < len(t) && isDigit(t[j]) {
				j++
			}
			segs = append(segs, gemSegment{t[i:j], true})
			i = j
			continue
		case isAlpha(c):
			for j < len(t) && isAlpha(t[j]) {
				j++
			}
			segs = append(segs, gemSegment{s: t[i:j]})
		case c == '-':
			segs = append(segs, gemPre)
		default:
			i = j
			continue
		}
		if firstString < 0 {
			firstString = len(segs) - 1 - len(buf)
		}
		i = j
	}
	out := segs[len(buf):]
	if firstString < 0 {
		return segs[:len(buf)+trimGemZeros(out)]
	}
	// Drop trailing zeros from the numbers before the first string, then
	// from the rest, and close the gap.
	n := trimGemZeros(out[:firstString])
	m := trimGemZeros(out[firstString:])
	copy(out[n:], out[firstString:firstString+m])
	return segs[:len(buf)+n+m]
}

// trimGemZeros returns the length of segs without its trailing zeros.
func trimGemZeros(segs []gemSegment) int {
	n := len(segs)
	for n > 0 && segs[n-1].num && strings.TrimLeft(segs[n-1].s, "0") == "" {
		n--
	}
	return n
}

func parseGem(s string) (gemVersion, error) {
	t, err := checkGem(s)
	if err != nil {
		return gemVersion{s: s}, err
	}
	return gemVersion{s: s, segs: gemSegments(t, nil)}, nil
}

func compareGemSegments(a, b []gemSegment) int {
	zero := gemSegment{"0", true}
	for i := range max(len(a), len(b)) {
		x, y := zero, zero
		if i < len(a) {
			x = a[i]
		}
		if i < len(b) {
			y = b[i]
		}
		switch {
		case x.num && y.num:
			if c := compareNumeric(x.s, y.s); c != 0 {
				return c
			}
		case x.num:
			return 1
		case y.num:
			return -1
		default:
			if c := strings.Compare(x.s, y.s); c != 0 {
				return c
			}
		}
	}
	return 0
}

func parseGemVersion(s string) (Version, error) {
	v, err := parseGem(s)
	if err != nil {
		return nil, err
	}
	return v, nil
}

func compareGem(a, b string) (int, error) {
	ta, err := checkGem(a)
	if err != nil {
		return 0, err
	}
	tb, err := checkGem(b)
	if err != nil {
		return 0, err
	}
	var bufA, bufB [16]gemSegment
	return compareGemSegments(gemSegments(ta, bufA[:0]), gemSegments(tb, bufB[:0])), nil
}

func (v gemVersion) String() string { return v.s }

func (v gemVersion) Compare(w Version) int {
	if w, ok := w.(gemVersion); ok {
		return compareGemSegments(v.segs, w.segs)
	}
	return compareOther(v, w)
}

var _ Version = gemVersion{}
