package report

import (
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"strings"
	"sync"
	"unicode/utf8"
)

// The SPDX license and exception identifiers that CycloneDX accepts in
// license.id, one a line. They are generated from the spdx.schema.json in
// testdata/schema (go test -run TestSPDXLists -update), so that every ID
// Seawall writes is one the schema allows.
var (
	//go:embed spdx_licenses.txt
	spdxLicenseData string
	//go:embed spdx_exceptions.txt
	spdxExceptionData string
)

// spdxListVersion is the SPDX License List the embedded identifiers come from.
const spdxListVersion = "3.28"

type spdxList struct {
	licenses   map[string]string // lower-cased ID -> canonical ID
	exceptions map[string]string
}

var spdxIDs = sync.OnceValue(func() *spdxList {
	return &spdxList{licenses: parseIDList(spdxLicenseData), exceptions: parseIDList(spdxExceptionData)}
})

func parseIDList(data string) map[string]string {
	m := make(map[string]string)
	for _, line := range strings.Split(data, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		m[strings.ToLower(line)] = line
	}
	return m
}

// licenseKind says what a declared license string turned out to be.
type licenseKind int

const (
	licenseName       licenseKind = iota // free text, not an SPDX expression
	licenseID                            // exactly one listed SPDX license ID
	licenseExpression                    // any other valid SPDX license expression
)

// parsedLicense is one declared license, classified. For licenseID and
// licenseExpression, Value is the canonical form ("mit" becomes "MIT");
// for licenseName it is the text as declared.
type parsedLicense struct {
	Kind  licenseKind
	Value string
}

func parseLicense(s string) parsedLicense {
	s = strings.TrimSpace(s)
	n, err := parseSPDXExpression(s)
	if err != nil {
		return parsedLicense{Kind: licenseName, Value: s}
	}
	if n.op == "" && !n.plus && n.exception == "" && !isLicenseRef(n.id) {
		return parsedLicense{Kind: licenseID, Value: n.id}
	}
	return parsedLicense{Kind: licenseExpression, Value: n.String()}
}

// declaredLicenses parses a package's licenses, dropping empty and
// NOASSERTION entries and duplicates.
func declaredLicenses(raw []string) []parsedLicense {
	var out []parsedLicense
	seen := make(map[parsedLicense]bool)
	for _, r := range raw {
		r = strings.TrimSpace(r)
		if r == "" || r == "NOASSERTION" {
			continue
		}
		l := parseLicense(r)
		if !seen[l] {
			seen[l] = true
			out = append(out, l)
		}
	}
	return out
}

// exprNode is a parsed SPDX license expression (SPDX 2.3 Annex D).
type exprNode struct {
	op          string // "", "AND", "OR"
	left, right *exprNode
	id          string // a leaf: license ID or LicenseRef
	plus        bool   // "GPL-2.0+"
	exception   string // "WITH exception"
}

func (n *exprNode) String() string {
	var b strings.Builder
	n.write(&b, "")
	return b.String()
}

// write prints n with the fewest parentheses that keep its meaning: AND
// binds tighter than OR, so only an OR inside an AND needs them.
func (n *exprNode) write(b *strings.Builder, parent string) {
	if n.op == "" {
		b.WriteString(n.id)
		if n.plus {
			b.WriteByte('+')
		}
		if n.exception != "" {
			b.WriteString(" WITH ")
			b.WriteString(n.exception)
		}
		return
	}
	paren := parent == "AND" && n.op == "OR"
	if paren {
		b.WriteByte('(')
	}
	n.left.write(b, n.op)
	b.WriteString(" " + n.op + " ")
	n.right.write(b, n.op)
	if paren {
		b.WriteByte(')')
	}
}

type exprError string

func (e exprError) Error() string { return string(e) }

type exprParser struct {
	toks []string
	pos  int
	ids  *spdxList
}

// parseSPDXExpression parses s as an SPDX license expression, accepting
// license IDs in any case (as the spec does) and operators in upper or
// lower case. It fails on anything else, so that what it returns is always
// a valid expression.
func parseSPDXExpression(s string) (*exprNode, error) {
	p := &exprParser{toks: tokenizeExpression(s), ids: spdxIDs()}
	if len(p.toks) == 0 {
		return nil, exprError("empty license expression")
	}
	n, err := p.or()
	if err != nil {
		return nil, err
	}
	if p.pos != len(p.toks) {
		return nil, exprError("unexpected " + p.toks[p.pos])
	}
	return n, nil
}

func tokenizeExpression(s string) []string {
	var toks []string
	start := -1
	flush := func(i int) {
		if start >= 0 {
			toks = append(toks, s[start:i])
			start = -1
		}
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case ' ', '\t', '\n', '\r':
			flush(i)
		case '(', ')':
			flush(i)
			toks = append(toks, string(c))
		default:
			if start < 0 {
				start = i
			}
		}
	}
	flush(len(s))
	return toks
}

func (p *exprParser) peekOp(op string) bool {
	return p.pos < len(p.toks) && strings.EqualFold(p.toks[p.pos], op) &&
		(p.toks[p.pos] == op || p.toks[p.pos] == strings.ToLower(op))
}

func (p *exprParser) or() (*exprNode, error) {
	left, err := p.and()
	if err != nil {
		return nil, err
	}
	for p.peekOp("OR") {
		p.pos++
		right, err := p.and()
		if err != nil {
			return nil, err
		}
		left = &exprNode{op: "OR", left: left, right: right}
	}
	return left, nil
}

func (p *exprParser) and() (*exprNode, error) {
	left, err := p.primary()
	if err != nil {
		return nil, err
	}
	for p.peekOp("AND") {
		p.pos++
		right, err := p.primary()
		if err != nil {
			return nil, err
		}
		left = &exprNode{op: "AND", left: left, right: right}
	}
	return left, nil
}

func (p *exprParser) primary() (*exprNode, error) {
	if p.pos >= len(p.toks) {
		return nil, exprError("expression ends early")
	}
	tok := p.toks[p.pos]
	p.pos++
	if tok == "(" {
		n, err := p.or()
		if err != nil {
			return nil, err
		}
		if p.pos >= len(p.toks) || p.toks[p.pos] != ")" {
			return nil, exprError("missing )")
		}
		p.pos++
		return n, nil
	}
	n, err := p.leaf(tok)
	if err != nil {
		return nil, err
	}
	if p.peekOp("WITH") {
		p.pos++
		if p.pos >= len(p.toks) {
			return nil, exprError("WITH needs an exception")
		}
		ex, ok := p.ids.exceptions[strings.ToLower(p.toks[p.pos])]
		if !ok || isLicenseRef(n.id) {
			return nil, exprError("unknown exception " + p.toks[p.pos])
		}
		p.pos++
		n.exception = ex
	}
	return n, nil
}

func (p *exprParser) leaf(tok string) (*exprNode, error) {
	switch {
	case tok == ")" || isOperator(tok):
		return nil, exprError("unexpected " + tok)
	case isLicenseRef(tok):
		return &exprNode{id: tok}, nil
	}
	// Deprecated IDs such as "GPL-2.0+" are listed with their "+".
	if id, ok := p.ids.licenses[strings.ToLower(tok)]; ok {
		return &exprNode{id: id}, nil
	}
	if base, ok := strings.CutSuffix(tok, "+"); ok {
		if id, ok := p.ids.licenses[strings.ToLower(base)]; ok {
			return &exprNode{id: id, plus: true}, nil
		}
	}
	return nil, exprError("unknown license " + tok)
}

func isOperator(tok string) bool {
	switch strings.ToUpper(tok) {
	case "AND", "OR", "WITH":
		return true
	}
	return false
}

// isLicenseRef reports whether tok is "LicenseRef-"idstring. A reference
// into another document ("DocumentRef-x:LicenseRef-y") is not accepted:
// Seawall's documents name no other documents, so it could not resolve.
func isLicenseRef(tok string) bool {
	ref, ok := strings.CutPrefix(tok, "LicenseRef-")
	return ok && isIDString(ref)
}

// isIDString reports whether s is a non-empty run of letters, digits, '.'
// and '-', the characters SPDX allows in identifiers.
func isIDString(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isIDByte(s[i]) {
			return false
		}
	}
	return true
}

func isIDByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-'
}

// sanitizeID replaces every character SPDX does not allow in an identifier
// with '-'.
func sanitizeID(s string) string {
	return strings.Map(func(r rune) rune {
		if r < utf8.RuneSelf && isIDByte(byte(r)) {
			return r
		}
		return '-'
	}, s)
}

// licenseRefFor names free-text license s as an SPDX LicenseRef. The name
// keeps the readable part of s and adds a short hash whenever sanitising
// changed it, so two different texts never share a LicenseRef.
func licenseRefFor(s string) string {
	id := sanitizeID(s)
	if len(id) > 64 {
		id = id[:64]
	}
	if id != s {
		sum := sha256.Sum256([]byte(s))
		id = strings.Trim(id, "-.") + "-" + hex.EncodeToString(sum[:4])
		id = strings.TrimPrefix(id, "-")
	}
	return "LicenseRef-" + id
}
