package java

import (
	"bytes"
	"strings"
)

// manifest is a parsed META-INF/MANIFEST.MF: the main section and the
// named sections after it, with header names folded to lower case (the
// JAR specification makes them case-insensitive).
type manifest struct {
	main     map[string]string
	sections []map[string]string
}

// get returns a main-section header, trimmed.
func (m *manifest) get(key string) string {
	if m == nil {
		return ""
	}
	return m.main[strings.ToLower(key)]
}

// parseManifest reads a manifest leniently: real ones break the rules
// (missing final newline, stray blank lines, lines without a colon), and
// none of that should cost the packages. A line that starts with one
// space continues the previous value; the writer wraps at 72 bytes, even
// in the middle of a word, so exactly that one space is dropped.
func parseManifest(b []byte) *manifest {
	m := &manifest{main: map[string]string{}}
	cur := m.main
	var last string
	started := false // whether cur has a header yet
	for len(b) > 0 {
		var line []byte
		if i := bytes.IndexAny(b, "\r\n"); i >= 0 {
			line = b[:i]
			if b[i] == '\r' && i+1 < len(b) && b[i+1] == '\n' {
				i++
			}
			b = b[i+1:]
		} else {
			line, b = b, nil
		}
		switch {
		case len(bytes.TrimSpace(line)) == 0:
			// A blank line ends a section. Runs of blank lines, or blank
			// lines before any header, do not make empty sections.
			if started {
				cur = map[string]string{}
				m.sections = append(m.sections, cur)
				started = false
			}
			last = ""
		case line[0] == ' ':
			if last != "" {
				cur[last] += string(line[1:])
			}
		default:
			k, v, ok := bytes.Cut(line, []byte(":"))
			if !ok {
				last = ""
				continue
			}
			last = strings.ToLower(string(bytes.TrimSpace(k)))
			if last == "" {
				continue
			}
			cur[last] = string(bytes.TrimLeft(v, " "))
			started = true
		}
	}
	if n := len(m.sections); n > 0 && len(m.sections[n-1]) == 0 {
		m.sections = m.sections[:n-1]
	}
	for _, s := range append([]map[string]string{m.main}, m.sections...) {
		for k, v := range s {
			s[k] = strings.TrimSpace(v)
		}
	}
	return m
}

// licenses returns the Bundle-License values, without OSGi attributes:
// "Apache-2.0;link=…" becomes "Apache-2.0".
func (m *manifest) licenses() []string {
	v := m.get("Bundle-License")
	if v == "" {
		return nil
	}
	// A single URL may contain commas in theory; in practice the header
	// is a list of SPDX ids or URLs separated by commas.
	var out []string
	for _, l := range strings.Split(v, ",") {
		l, _, _ = strings.Cut(l, ";")
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// pomProps is what a META-INF/maven/<group>/<artifact>/pom.properties says.
type pomProps struct {
	group, artifact, version string
}

func containsPom(ps []pomProps, p pomProps) bool {
	for _, q := range ps {
		if q == p {
			return true
		}
	}
	return false
}

// parsePomProps reads a Java properties file and reports whether it names
// a complete Maven coordinate. Values with blanks or unresolved "${…}"
// are not coordinates.
func parsePomProps(b []byte) (pomProps, bool) {
	props := parseProperties(b)
	p := pomProps{
		group:    strings.TrimSpace(props["groupId"]),
		artifact: strings.TrimSpace(props["artifactId"]),
		version:  strings.TrimSpace(props["version"]),
	}
	for _, s := range []string{p.group, p.artifact, p.version} {
		if s == "" || strings.ContainsAny(s, " \t") || strings.Contains(s, "${") {
			return pomProps{}, false
		}
	}
	return p, true
}

// parseProperties implements the java.util.Properties line format:
// "#" and "!" comments, "key=value", "key:value" or "key value", a
// trailing backslash continuing the line, and backslash escapes.
func parseProperties(b []byte) map[string]string {
	out := map[string]string{}
	lines := strings.Split(strings.ReplaceAll(string(b), "\r\n", "\n"), "\n")
	for i := 0; i < len(lines); i++ {
		line := strings.TrimLeft(lines[i], " \t\f")
		if line == "" || line[0] == '#' || line[0] == '!' {
			continue
		}
		for continues(line) && i+1 < len(lines) {
			i++
			line = line[:len(line)-1] + strings.TrimLeft(lines[i], " \t\f")
		}
		key, val := splitProperty(line)
		out[unescape(key)] = unescape(val)
	}
	return out
}

// continues reports whether a line ends in an odd number of backslashes.
func continues(line string) bool {
	n := 0
	for i := len(line) - 1; i >= 0 && line[i] == '\\'; i-- {
		n++
	}
	return n%2 == 1
}

func splitProperty(line string) (key, val string) {
	i := 0
	for i < len(line) {
		c := line[i]
		if c == '\\' {
			i += 2
			continue
		}
		if c == '=' || c == ':' || c == ' ' || c == '\t' || c == '\f' {
			break
		}
		i++
	}
	if i > len(line) {
		i = len(line)
	}
	key, rest := line[:i], line[i:]
	rest = strings.TrimLeft(rest, " \t\f")
	if rest != "" && (rest[0] == '=' || rest[0] == ':') {
		rest = strings.TrimLeft(rest[1:], " \t\f")
	}
	return key, rest
}

func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var sb strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 == len(s) {
			sb.WriteByte(c)
			continue
		}
		i++
		switch s[i] {
		case 't':
			sb.WriteByte('\t')
		case 'n':
			sb.WriteByte('\n')
		case 'r':
			sb.WriteByte('\r')
		case 'f':
			sb.WriteByte('\f')
		case 'u':
			if i+4 < len(s) {
				if r, ok := hex4(s[i+1 : i+5]); ok {
					sb.WriteRune(r)
					i += 4
					continue
				}
			}
			sb.WriteByte('u')
		default:
			sb.WriteByte(s[i])
		}
	}
	return sb.String()
}

func hex4(s string) (rune, bool) {
	var r rune
	for i := 0; i < 4; i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}
