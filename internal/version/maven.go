package version

import "strings"

// mavenVersion is a Maven version, ordered as Maven's ComparableVersion
// (maven-artifact 3.8.6, which produced OSV's Maven fixtures) orders it.
//
// The version, without regard to case, splits into items: numbers,
// qualifiers, and lists. "." separates items of one list; "-", and a
// switch between digits and letters, start a nested list. Single letters
// a, b and m followed by a digit mean alpha, beta and milestone; ga, final
// and release mean the empty qualifier and cr means rc. Trailing zeros,
// empty qualifiers and empty lists are dropped from each list, from its end
// back to the last item that is not a list.
//
// Items compare by kind and value: known qualifiers alpha < beta <
// milestone < rc < snapshot < "" < sp, then unknown qualifiers in string
// order, then nested lists, then numbers (in numeric order, of any
// length). A missing item compares as zero or the empty qualifier would,
// so 1-alpha < 1 < 1-sp < 1-1 < 1.1.
//
// Maven 3.8.7 changed how a qualifier after "." nests (MNG-7644), which
// changes the order of versions such as 2.9.0.RC1 and 2.9.0-1; OSV keeps
// the 3.8.6 order, and so does this.
type mavenVersion struct {
	s     string
	items []mavenItem
}

// A version's items lie flat in one slice. A nested list is always the
// last item of its parent, so an item of kind mavenList stands for the
// rest of the slice.
type mavenItem struct {
	kind int
	s    string // an int's digits without leading zeros, or a qualifier
}

const (
	mavenInt = iota
	mavenString
	mavenList
)

var mavenZero = mavenItem{mavenInt, "0"}

// mavenQualifiers are the known qualifiers in order; mavenRelease is the
// index of "", a release.
var mavenQualifiers = [...]string{"alpha", "beta", "milestone", "rc", "snapshot", "", "sp"}

const mavenRelease = 5

func mavenNumber(s string) mavenItem {
	s = strings.TrimLeft(s, "0")
	if s == "" {
		s = "0"
	}
	return mavenItem{mavenInt, s}
}

func mavenQualifier(s string, followedByDigit bool) mavenItem {
	if followedByDigit && len(s) == 1 {
		switch lower(s[0]) {
		case 'a':
			s = "alpha"
		case 'b':
			s = "beta"
		case 'm':
			s = "milestone"
		}
	}
	switch {
	case equalFoldASCII(s, "ga"), equalFoldASCII(s, "final"), equalFoldASCII(s, "release"):
		s = ""
	case equalFoldASCII(s, "cr"):
		s = "rc"
	}
	return mavenItem{mavenString, s}
}

func equalFoldASCII(a, b string) bool { return len(a) == len(b) && compareFoldASCII(a, b) == 0 }

// mavenItems appends the items of version t to buf.
func mavenItems(t string, buf []mavenItem) []mavenItem {
	items := buf
	item := func(digits bool, s string) mavenItem {
		if digits {
			return mavenNumber(s)
		}
		return mavenQualifier(s, false)
	}
	digits, start := false, 0
	for i := 0; i < len(t); i++ {
		switch c := t[i]; {
		case c == '.' || c == '-':
			if i == start {
				items = append(items, mavenZero)
			} else {
				items = append(items, item(digits, t[start:i]))
			}
			start = i + 1
			if c == '-' {
				items = append(items, mavenItem{kind: mavenList})
			}
		case isDigit(c):
			if !digits && i > start {
				items = append(items, mavenQualifier(t[start:i], true), mavenItem{kind: mavenList})
				start = i
			}
			digits = true
		default:
			if digits && i > start {
				items = append(items, mavenNumber(t[start:i]), mavenItem{kind: mavenList})
				start = i
			}
			digits = false
		}
	}
	if len(t) > start {
		items = append(items, item(digits, t[start:]))
	}
	return items[:len(buf)+mavenNormalize(items[len(buf):])]
}

func (it mavenItem) isNull() bool {
	return it.kind == mavenInt && it.s == "0" || it.kind == mavenString && it.s == ""
}

// mavenNormalize normalises each list, innermost first: it drops null
// items from the end of the list, looking past a non-empty nested list,
// and drops a nested list left empty. It returns the new length of items.
func mavenNormalize(items []mavenItem) int {
	end, child := len(items), false // the list is items[start:end], then its child if any
	for {
		start := end
		for start > 0 && items[start-1].kind != mavenList {
			start--
		}
		for i := end - 1; i >= start && items[i].isNull(); i-- {
			items = append(items[:i], items[i+1:]...)
			end--
		}
		if start == 0 {
			return len(items)
		}
		if end == start && !child {
			items = items[:start-1] // an empty list is null
		} else {
			child = true
		}
		end = start - 1
	}
}

func parseMaven(s string) (mavenVersion, error) {
	if strings.TrimSpace(s) == "" {
		return mavenVersion{s: s}, invalid("Maven", s, "empty")
	}
	return mavenVersion{s, mavenItems(mavenLower(s), nil)}, nil
}

// mavenLower lower-cases a version with non-ASCII letters as Java would;
// ASCII letters are compared without regard to case instead, which spares
// an allocation.
func mavenLower(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return strings.ToLower(s)
		}
	}
	return s
}

// mavenListLen returns the number of items in the list a, counting its
// nested list.
func mavenListLen(a []mavenItem) int {
	for i := range a {
		if a[i].kind == mavenList {
			return i + 1
		}
	}
	return len(a)
}

// mavenQualifierRank ranks a qualifier; unknown ones rank after all known
// ones, among themselves in string order.
func mavenQualifierRank(s string) int {
	for i, q := range mavenQualifiers {
		if equalFoldASCII(s, q) {
			return i
		}
	}
	return len(mavenQualifiers)
}

func mavenQualifierCmp(a, b string) int {
	ra, rb := mavenQualifierRank(a), mavenQualifierRank(b)
	if ra == len(mavenQualifiers) && rb == ra {
		return compareFoldASCII(a, b)
	}
	return sign(ra - rb)
}

// mavenCmpMissing compares item i of list a with a missing item.
func mavenCmpMissing(a []mavenItem, i int) int {
	switch a[i].kind {
	case mavenInt:
		if a[i].s == "0" {
			return 0
		}
		return 1
	case mavenString:
		return sign(mavenQualifierRank(a[i].s) - mavenRelease)
	}
	nested := a[i+1:]
	for j := range mavenListLen(nested) {
		if c := mavenCmpMissing(nested, j); c != 0 {
			return c
		}
	}
	return 0
}

// mavenCmpItem compares item i of list a with item j of list b.
func mavenCmpItem(a []mavenItem, i int, b []mavenItem, j int) int {
	x, y := a[i], b[j]
	switch x.kind {
	case mavenInt:
		if y.kind == mavenInt {
			return compareNumeric(x.s, y.s)
		}
		return 1
	case mavenString:
		if y.kind == mavenString {
			return mavenQualifierCmp(x.s, y.s)
		}
		return -1
	}
	switch y.kind {
	case mavenInt:
		return -1
	case mavenString:
		return 1
	}
	return mavenCmpLists(a[i+1:], b[j+1:])
}

func mavenCmpLists(a, b []mavenItem) int {
	na, nb := mavenListLen(a), mavenListLen(b)
	for i := 0; i < na || i < nb; i++ {
		var c int
		switch {
		case i >= na:
			c = -mavenCmpMissing(b, i)
		case i >= nb:
			c = mavenCmpMissing(a, i)
		default:
			c = mavenCmpItem(a, i, b, i)
		}
		if c != 0 {
			return c
		}
	}
	return 0
}

func parseMavenVersion(s string) (Version, error) {
	v, err := parseMaven(s)
	if err != nil {
		return nil, err
	}
	return v, nil
}

func compareMaven(a, b string) (int, error) {
	if strings.TrimSpace(a) == "" {
		return 0, invalid("Maven", a, "empty")
	}
	if strings.TrimSpace(b) == "" {
		return 0, invalid("Maven", b, "empty")
	}
	var bufA, bufB [24]mavenItem
	return mavenCmpLists(mavenItems(mavenLower(a), bufA[:0]), mavenItems(mavenLower(b), bufB[:0])), nil
}

func (v mavenVersion) String() string { return v.s }

func (v mavenVersion) Compare(w Version) int {
	if w, ok := w.(mavenVersion); ok {
		return mavenCmpLists(v.items, w.items)
	}
	return compareOther(v, w)
}

var _ Version = mavenVersion{}
