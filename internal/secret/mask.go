package secret

import (
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Mask hides a secret: at most its first four characters, and only for
// long secrets, then five asterisks whatever the length, so that neither
// the secret nor its length can be read from a report.
func Mask(secret string) string {
	n := utf8.RuneCountInString(secret)
	show := 0
	switch {
	case n >= 16:
		show = 4
	case n >= 8:
		show = 2
	}
	i := 0
	for k := 0; k < show; k++ {
		_, w := utf8.DecodeRuneInString(secret[i:])
		i += w
	}
	return secret[:i] + "*****"
}

// snippetContext is how many bytes of the line on each side of a secret
// a snippet shows.
const snippetContext = 40

// span is a secret's place in the file.
type span struct {
	off, end int64
	secret   string
}

// snippet shows the secret's line around it with the secret masked. line
// is (part of) the line, starting at file offset lineOff; the secret is
// self. Every secret in all is masked too: where it overlaps the shown
// part of the line, and wherever its text shows again.
func snippet(line string, lineOff int64, self span, all []span) string {
	at := int(self.off - lineOff)
	end := min(len(line), int(self.end-lineOff)) // a secret may run past its first line
	lo := max(0, at-snippetContext)
	hi := min(len(line), end+snippetContext)
	// The parts of the shown text that are secrets, in line offsets.
	var cover [][2]int
	for _, o := range all {
		s, e := int(o.off-lineOff), int(o.end-lineOff)
		if e <= lo || s >= hi {
			continue
		}
		cover = append(cover, [2]int{max(s, lo), min(e, hi)})
	}
	sort.Slice(cover, func(i, j int) bool { return cover[i][0] < cover[j][0] })
	var b strings.Builder
	if lo > 0 {
		b.WriteString("…")
	}
	pos := lo
	for i, c := range cover {
		if c[1] <= pos {
			continue
		}
		if c[0] > pos {
			plain := line[pos:c[0]]
			if i == 0 && lo > 0 {
				plain = trimPartialLeft(plain)
			}
			b.WriteString(plain)
			pos = c[0]
		}
		e := c[1]
		for _, d := range cover[i+1:] { // merge overlapping secrets
			if d[0] < e {
				e = max(e, d[1])
			}
		}
		if pos == at {
			b.WriteString(Mask(self.secret))
		} else {
			b.WriteString(Mask(line[pos:e]))
		}
		pos = e
	}
	if pos < hi {
		plain := line[pos:hi]
		if hi < len(line) {
			plain = trimPartialRight(plain)
		}
		b.WriteString(plain)
	}
	if hi < len(line) {
		b.WriteString("…")
	}
	out := b.String()
	for _, o := range all {
		if len(o.secret) >= 4 {
			out = strings.ReplaceAll(out, o.secret, Mask(o.secret))
		}
	}
	return clean(strings.TrimSpace(out))
}

func isWordByte(c byte) bool {
	return c == '_' || c == '-' || c == '+' || c == '/' || c == '=' || c == '.' ||
		('0' <= c && c <= '9') || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || c >= 0x80
}

func trimPartialLeft(s string) string {
	i := 0
	for i < len(s) && isWordByte(s[i]) {
		i++
	}
	return s[i:]
}

func trimPartialRight(s string) string {
	i := len(s)
	for i > 0 && isWordByte(s[i-1]) {
		i--
	}
	return s[:i]
}

// clean makes a snippet printable: valid UTF-8, no control characters.
func clean(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	return strings.Map(func(r rune) rune {
		if r == '\t' {
			return ' '
		}
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, s)
}

// maskSpans masks the parts of text that spans cover (offsets in text),
// merging overlapping ones.
func maskSpans(text string, spans []span) string {
	sort.Slice(spans, func(i, j int) bool { return spans[i].off < spans[j].off })
	var b strings.Builder
	pos := 0
	for i := 0; i < len(spans); i++ {
		lo, hi := int(spans[i].off), int(spans[i].end)
		for i+1 < len(spans) && int(spans[i+1].off) < hi {
			i++
			hi = max(hi, int(spans[i].end))
		}
		if lo < pos {
			lo = pos
		}
		if hi <= lo {
			continue
		}
		b.WriteString(text[pos:lo])
		b.WriteString(Mask(text[lo:hi]))
		pos = hi
	}
	b.WriteString(text[pos:])
	return b.String()
}
