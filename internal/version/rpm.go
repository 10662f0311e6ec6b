package version

import "strings"

// rpmVersion is an RPM [epoch:]version[-release], ordered as rpm's
// rpmvercmp (rpmio/rpmvercmp.c) orders each part.
//
// Two choices follow OSV rather than rpm: a missing epoch is 0, and a
// missing release sorts before any release, where rpm would skip comparing
// releases. OSV ranges always carry full versions, and "1.0 < 1.0-1" keeps
// the order total.
type rpmVersion struct {
	s          string
	epoch      string // "" means 0
	version    string
	release    string
	hasRelease bool
}

func parseRPM(s string) (rpmVersion, error) {
	v := rpmVersion{s: s}
	t := strings.TrimSpace(s)
	if t == "" {
		return v, invalid("RPM", s, "empty")
	}
	// Like rpm's parseEVR, a colon ends an epoch only after nothing but
	// digits; "a:1" is all version.
	if i := strings.IndexByte(t, ':'); i >= 0 && digitRun(t) == i {
		v.epoch, t = t[:i], t[i+1:]
	}
	v.version = t
	if i := strings.LastIndexByte(t, '-'); i >= 0 {
		v.version, v.release, v.hasRelease = t[:i], t[i+1:], true
	}
	return v, nil
}

func (v rpmVersion) cmp(w rpmVersion) int {
	ea, eb := v.epoch, w.epoch
	if ea == "" {
		ea = "0"
	}
	if eb == "" {
		eb = "0"
	}
	if c := rpmvercmp(ea, eb); c != 0 {
		return c
	}
	if c := rpmvercmp(v.version, w.version); c != 0 {
		return c
	}
	switch {
	case !v.hasRelease && !w.hasRelease:
		return 0
	case !v.hasRelease:
		return -1
	case !w.hasRelease:
		return 1
	}
	return rpmvercmp(v.release, w.release)
}

// rpmSeparator reports whether c separates segments: anything but an ASCII
// letter or digit, '~' or '^'.
func rpmSeparator(c byte) bool { return !isAlnum(c) && c != '~' && c != '^' }

// rpmvercmp compares two version or release strings segment by segment.
// Digit segments compare numerically (of any length), letter segments as
// strings, and a digit segment is newer than a letter one. '~' sorts before
// everything, even the end of the string; '^' sorts after the end of the
// string but before anything else.
func rpmvercmp(a, b string) int {
	if a == b {
		return 0
	}
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		for i < len(a) && rpmSeparator(a[i]) {
			i++
		}
		for j < len(b) && rpmSeparator(b[j]) {
			j++
		}
		ta, tb := i < len(a) && a[i] == '~', j < len(b) && b[j] == '~'
		if ta || tb {
			if !ta {
				return 1
			}
			if !tb {
				return -1
			}
			i++
			j++
			continue
		}
		ca, cb := i < len(a) && a[i] == '^', j < len(b) && b[j] == '^'
		if ca || cb {
			switch {
			case i == len(a):
				return -1
			case j == len(b):
				return 1
			case !ca:
				return 1
			case !cb:
				return -1
			}
			i++
			j++
			continue
		}
		if i == len(a) || j == len(b) {
			break
		}
		num := isDigit(a[i])
		si, sj := i, j
		if num {
			for i < len(a) && isDigit(a[i]) {
				i++
			}
			for j < len(b) && isDigit(b[j]) {
				j++
			}
		} else {
			for i < len(a) && isAlpha(a[i]) {
				i++
			}
			for j < len(b) && isAlpha(b[j]) {
				j++
			}
		}
		if sj == j {
			// Segments of different kinds: numbers are newer.
			if num {
				return 1
			}
			return -1
		}
		var c int
		if num {
			c = compareNumeric(a[si:i], b[sj:j])
		} else {
			c = strings.Compare(a[si:i], b[sj:j])
		}
		if c != 0 {
			return c
		}
	}
	// Whichever still has characters left is newer.
	switch {
	case i >= len(a) && j >= len(b):
		return 0
	case i >= len(a):
		return -1
	}
	return 1
}

func parseRPMVersion(s string) (Version, error) {
	v, err := parseRPM(s)
	if err != nil {
		return nil, err
	}
	return v, nil
}

func compareRPM(a, b string) (int, error) {
	va, err := parseRPM(a)
	if err != nil {
		return 0, err
	}
	vb, err := parseRPM(b)
	if err != nil {
		return 0, err
	}
	return va.cmp(vb), nil
}

func (v rpmVersion) String() string { return v.s }

func (v rpmVersion) Compare(w Version) int {
	if w, ok := w.(rpmVersion); ok {
		return v.cmp(w)
	}
	return compareOther(v, w)
}

var _ Version = rpmVersion{}
