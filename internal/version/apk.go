package version

import (
	"strconv"
	"strings"
)

// apkVersion is an Alpine package version,
// number{.number}...{letter}{_suffix{number}}...{-r#}, ordered as
// apk-tools 2 (src/version.c), the apk of every Alpine 3.x release, orders
// it. Wolfi and Chainguard use the same rules.
//
// apk compares versions token by token and rejects no string: a version
// that breaks the grammar ends in an invalid token, which apk-tools 2 sorts
// after every valid continuation. apk-tools 3 sorts it before, and also
// calls a letter followed by digits (6.6.2p1, as old Alpine openssh
// packages are numbered) invalid; OSV's Alpine data and apk on Alpine 3.x
// follow apk-tools 2. Numbers may have any length, where apk's would
// overflow an int.
type apkVersion struct {
	s string
}

func parseApk(s string) (apkVersion, error) {
	if strings.TrimSpace(s) == "" {
		return apkVersion{s}, invalid("apk", s, "empty")
	}
	return apkVersion{s}, nil
}

// The token kinds, in the order in which they may follow one another;
// apkDigitOrZero is a number after ".", where leading zeros count.
const (
	apkInvalid = iota - 1
	apkDigitOrZero
	apkDigit
	apkLetter
	apkSuffix
	apkSuffixNo
	apkRevisionNo
	apkEnd
)

// The suffixes. Those before a release get negative values, those after
// it non-negative ones; each is matched as a prefix, as apk does.
var (
	apkPreSuffixes  = [...]string{"alpha", "beta", "pre", "rc"}
	apkPostSuffixes = [...]string{"cvs", "svn", "git", "hg", "p"}
)

// apkValue is the value of one token: a number, or a small integer for a
// letter, a suffix, or a run of leading zeros (minus their count).
type apkValue struct {
	num    bool
	digits string // a number's digits
	n      int
}

func (a apkValue) cmp(b apkValue) int {
	switch {
	case a.num && b.num:
		return compareNumeric(a.digits, b.digits)
	case !a.num && !b.num:
		return sign(a.n - b.n)
	case a.num:
		return -compareSmall(b.n, a.digits)
	}
	return compareSmall(a.n, b.digits)
}

// compareSmall compares a small integer with a number.
func compareSmall(n int, digits string) int {
	if n < 0 {
		return -1
	}
	var buf [20]byte
	return compareNumeric(string(strconv.AppendInt(buf[:0], int64(n), 10)), digits)
}

// apkNext moves to the next token after a value, setting its kind.
func apkNext(kind *int, b *string) {
	s := *b
	n := apkInvalid
	switch {
	case s == "" || s[0] == 0:
		n = apkEnd
	case (*kind == apkDigit || *kind == apkDigitOrZero) && 'a' <= s[0] && s[0] <= 'z':
		n = apkLetter
	case *kind == apkLetter && isDigit(s[0]):
		n = apkDigit
	case *kind == apkSuffix && isDigit(s[0]):
		n = apkSuffixNo
	default:
		switch s[0] {
		case '.':
			n = apkDigitOrZero
		case '_':
			n = apkSuffix
		case '-':
			if len(s) > 1 && s[1] == 'r' {
				n = apkRevisionNo
				s = s[1:]
			}
		}
		s = s[1:]
	}
	*b = s
	if n < *kind && !(n == apkDigitOrZero && *kind == apkDigit ||
		n == apkSuffix && *kind == apkSuffixNo ||
		n == apkDigit && *kind == apkLetter) {
		n = apkInvalid
	}
	*kind = n
}

// apkToken reads the value of a token of the given kind and moves past it.
func apkToken(kind *int, b *string) apkValue {
	s := *b
	if s == "" {
		*kind = apkEnd
		return apkValue{num: true}
	}
	var v apkValue
	i, next := 0, apkInvalid
	switch *kind {
	case apkDigitOrZero, apkDigit, apkSuffixNo, apkRevisionNo:
		if *kind == apkDigitOrZero && s[0] == '0' {
			// Leading zeros after a dot weigh by their count, and what
			// follows them is a number of its own: 1.01 < 1.1.
			for i < len(s) && s[i] == '0' {
				i++
			}
			v, next = apkValue{n: -i}, apkDigit
			break
		}
		i = digitRun(s)
		v = apkValue{num: true, digits: s[:i]}
	case apkLetter:
		v, i = apkValue{n: int(s[0])}, 1
	case apkSuffix:
		found := false
		for k, suf := range apkPreSuffixes {
			if strings.HasPrefix(s, suf) {
				v, i, found = apkValue{n: k - len(apkPreSuffixes)}, len(suf), true
				break
			}
		}
		for k, suf := range apkPostSuffixes {
			if !found && strings.HasPrefix(s, suf) {
				v, i, found = apkValue{n: k}, len(suf), true
			}
		}
		if !found {
			*kind = apkInvalid
			return apkValue{n: -1}
		}
	default:
		*kind = apkInvalid
		return apkValue{n: -1}
	}
	*b = s[i:]
	switch {
	case *b == "":
		*kind = apkEnd
	case next != apkInvalid:
		*kind = next
	default:
		apkNext(kind, b)
	}
	return v
}

func apkCompare(a, b string) int {
	ak, bk := apkDigit, apkDigit
	var av, bv apkValue
	for ak == bk && ak != apkEnd && ak != apkInvalid && av.cmp(bv) == 0 {
		av = apkToken(&ak, &a)
		bv = apkToken(&bk, &b)
	}
	if c := av.cmp(bv); c != 0 {
		return c
	}
	if ak == bk {
		return 0
	}
	// Equal so far: the longer version is newer unless it goes on with a
	// pre-release suffix, and a version that turns invalid is newer still.
	if ak == apkSuffix {
		k := ak
		if v := apkToken(&k, &a); !v.num && v.n < 0 {
			return -1
		}
	}
	if bk == apkSuffix {
		k := bk
		if v := apkToken(&k, &b); !v.num && v.n < 0 {
			return 1
		}
	}
	return sign(bk - ak)
}

func parseApkVersion(s string) (Version, error) {
	v, err := parseApk(s)
	if err != nil {
		return nil, err
	}
	return v, nil
}

func compareApk(a, b string) (int, error) {
	if _, err := parseApk(a); err != nil {
		return 0, err
	}
	if _, err := parseApk(b); err != nil {
		return 0, err
	}
	return apkCompare(a, b), nil
}

func (v apkVersion) String() string { return v.s }

func (v apkVersion) Compare(w Version) int {
	if w, ok := w.(apkVersion); ok {
		return apkCompare(v.s, w.s)
	}
	return compareOther(v, w)
}

var _ Version = apkVersion{}
