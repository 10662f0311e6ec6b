package pylock

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/seawall-dev/seawall/internal/inventory"
)

// ParseRequirements reads a pip requirements file and reports the pinned
// entries: "name==version" and "name===version", with or without extras,
// environment markers and per-requirement options such as --hash.
// Unpinned entries, options (-r, -c, -e, --index-url), paths and URLs are
// skipped without complaint; included files are not followed.
//
// Lines that are not requirements at all are counted, and reported as an
// error next to the packages that were found.
func ParseRequirements(ctx context.Context, b []byte) ([]inventory.Package, error) {
	text, err := decodeText(b)
	if err != nil {
		return nil, err
	}
	c := newCollector()
	bad, firstBad := 0, 0
	for i, line := range logicalLines(text) {
		if i%65536 == 0 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		name, version, ok := parseRequirementLine(line.text)
		if !ok {
			if bad == 0 {
				firstBad = line.no
			}
			bad++
			continue
		}
		if name != "" {
			c.add(name, version, false, false)
		}
	}
	pkgs := c.list()
	if bad > 0 {
		err := fmt.Errorf("requirements file: %d lines are not requirements, the first on line %d", bad, firstBad)
		if len(pkgs) == 0 {
			return nil, err
		}
		return pkgs, err
	}
	return pkgs, nil
}

// decodeText turns the file into a string: UTF-8, with or without a BOM,
// or UTF-16 with a BOM as Windows tools write it.
func decodeText(b []byte) (string, error) {
	switch {
	case bytes.HasPrefix(b, []byte{0xef, 0xbb, 0xbf}):
		b = b[3:]
	case bytes.HasPrefix(b, []byte{0xff, 0xfe}), bytes.HasPrefix(b, []byte{0xfe, 0xff}):
		le := b[0] == 0xff
		b = b[2:]
		u := make([]uint16, len(b)/2)
		for i := range u {
			if le {
				u[i] = uint16(b[2*i]) | uint16(b[2*i+1])<<8
			} else {
				u[i] = uint16(b[2*i])<<8 | uint16(b[2*i+1])
			}
		}
		b = []byte(string(utf16.Decode(u)))
	}
	if bytes.IndexByte(b, 0) >= 0 || !utf8.Valid(b) {
		return "", fmt.Errorf("requirements file is not text")
	}
	return string(b), nil
}

type logicalLine struct {
	no   int // line number where it starts
	text string
}

// logicalLines joins continuation lines and strips comments the way pip
// does: a line ending in a backslash continues on the next, a comment
// line ends a continuation, and "#" starts a comment at the start of a
// line or after whitespace.
func logicalLines(text string) []logicalLine {
	var (
		out   []logicalLine
		cur   strings.Builder
		start int
		open  bool
	)
	emit := func(no int, s string) {
		if s = strings.TrimSpace(stripComment(s)); s != "" {
			out = append(out, logicalLine{no, s})
		}
	}
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		l = strings.TrimRight(l, "\r")
		comment := strings.HasPrefix(strings.TrimLeft(l, " \t"), "#")
		if !strings.HasSuffix(l, `\`) || comment {
			if open {
				if !comment {
					cur.WriteString(l)
				}
				emit(start, cur.String())
				cur.Reset()
				open = false
				continue
			}
			emit(i+1, l)
			continue
		}
		if !open {
			start, open = i+1, true
		}
		cur.WriteString(strings.TrimSuffix(l, `\`))
	}
	if open {
		emit(start, cur.String())
	}
	return out
}

func stripComment(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] == '#' && (i == 0 || s[i-1] == ' ' || s[i-1] == '\t') {
			return s[:i]
		}
	}
	return s
}

// parseRequirementLine reads one logical line. It returns the name and
// version of a pinned requirement, an empty name for a line that is valid
// but names no pinned package, and ok=false for a line that is not a
// requirement.
func parseRequirementLine(line string) (name, version string, ok bool) {
	if strings.HasPrefix(line, "-") {
		return "", "", true // an option: -r, -c, -e, --index-url, …
	}
	// Options after the requirement start at the first token that begins
	// with "-", as pip splits them.
	fields := strings.Fields(line)
	for i, f := range fields {
		if strings.HasPrefix(f, "-") {
			fields = fields[:i]
			break
		}
	}
	req := strings.Join(fields, " ")
	if isPathOrURL(req) {
		return "", "", true
	}
	req, _, _ = strings.Cut(req, ";") // environment marker
	req = strings.TrimSpace(req)

	n := 0
	for n < len(req) && (isAlnum(req[n]) || strings.IndexByte("._-", req[n]) >= 0) {
		n++
	}
	name = req[:n]
	if !validName(name) {
		return "", "", false
	}
	rest := strings.TrimSpace(req[n:])
	if strings.HasPrefix(rest, "[") {
		end := strings.IndexByte(rest, ']')
		if end < 0 {
			return "", "", false
		}
		rest = strings.TrimSpace(rest[end+1:])
	}
	switch {
	case rest == "":
		return "", "", true // unpinned
	case strings.HasPrefix(rest, "@"):
		return "", "", true // a direct URL reference
	}
	if strings.HasPrefix(rest, "(") && strings.HasSuffix(rest, ")") {
		rest = strings.TrimSpace(rest[1 : len(rest)-1])
	}
	clauses := strings.Split(rest, ",")
	var pinned string
	for _, cl := range clauses {
		op, v, ok := splitClause(strings.TrimSpace(cl))
		if !ok {
			return "", "", false
		}
		if (op == "==" || op == "===") && len(clauses) == 1 && validVersion(v) {
			pinned = v
		}
	}
	if pinned == "" {
		return "", "", true // a range, a wildcard or an unexpanded variable
	}
	return name, pinned, true
}

// splitClause splits one version specifier clause such as ">= 2.8.1".
func splitClause(s string) (op, version string, ok bool) {
	for _, o := range []string{"===", "==", "!=", "~=", "<=", ">=", "<", ">"} {
		if v, found := strings.CutPrefix(s, o); found {
			v = strings.TrimSpace(v)
			return o, v, v != "" && !strings.ContainsAny(v, " \t")
		}
	}
	return "", "", false
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// isPathOrURL reports whether a requirement is a local path or a URL,
// which pip installs as is and which names no pinned PyPI release.
func isPathOrURL(s string) bool {
	if strings.Contains(s, "://") || strings.HasPrefix(s, "file:") {
		return true
	}
	if strings.HasPrefix(s, ".") || strings.HasPrefix(s, "/") || strings.HasPrefix(s, "~") || strings.HasPrefix(s, `\`) {
		return true
	}
	if len(s) > 2 && s[1] == ':' && (s[2] == '\\' || s[2] == '/') {
		return true // C:\wheels\x.whl
	}
	lower := strings.ToLower(s)
	for _, ext := range []string{".whl", ".zip", ".tar.gz", ".tgz", ".tar.bz2", ".tar"} {
		if strings.HasSuffix(lower, ext) {
			return true
		}
	}
	return false
}
