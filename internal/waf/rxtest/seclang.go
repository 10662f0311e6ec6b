package rxtest

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"strings"

	coreruleset "github.com/corazawaf/coraza-coreruleset/v4"
)

// CRSExpressions returns the argument of every @rx operator in the Core
// Rule Set that Seawall embeds (crs-setup.conf.example and
// @owasp_crs/*.conf, in the order the engine includes them), exactly as
// Coraza passes it to the operator factory. Explicit "@rx", negated
// "!@rx" and the implicit form (an operator that does not start with @)
// all count. Duplicates are kept, in rule order.
func CRSExpressions() ([]string, error) {
	files, err := fs.Glob(coreruleset.FS, "@owasp_crs/*.conf")
	if err != nil {
		return nil, fmt.Errorf("listing CRS rule files: %w", err)
	}
	if len(files) == 0 {
		return nil, errors.New("no CRS rule files under @owasp_crs in the embedded coreruleset")
	}
	files = append([]string{"@crs-setup.conf.example"}, files...)
	var out []string
	for _, name := range files {
		data, err := fs.ReadFile(coreruleset.FS, name)
		if err != nil {
			return nil, fmt.Errorf("reading CRS file %s: %w", name, err)
		}
		exprs, err := Expressions(string(data))
		if err != nil {
			return nil, fmt.Errorf("CRS file %s: %w", name, err)
		}
		out = append(out, exprs...)
	}
	return out, nil
}

// Expressions returns the argument of every @rx operator of the SecRule
// directives in conf, a SecLang configuration, in order. It splits lines
// and quoted strings the way Coraza v3's seclang parser does (backslash
// line continuation after trimming, backtick blocks, `\"` inside quotes),
// so that each string equals the Arguments Coraza's operator factory
// receives. Include directives are not followed.
func Expressions(conf string) ([]string, error) {
	var out []string
	sc := bufio.NewScanner(strings.NewReader(conf))
	var buf strings.Builder
	inBackticks := false
	lineNo := 0
	for sc.Scan() {
		lineNo++
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		// A line ending in a backtick opens a block that only a line
		// starting with one closes, as in Coraza's parser.
		if !inBackticks && line[len(line)-1] == '`' {
			inBackticks = true
		} else if inBackticks && line[0] == '`' {
			inBackticks = false
		}
		if inBackticks {
			buf.WriteString(line)
			buf.WriteString("\n")
			continue
		}
		if line[len(line)-1] == '\\' {
			buf.WriteString(strings.TrimSuffix(line, "\\"))
			continue
		}
		buf.WriteString(line)
		expr, ok, err := ruleExpression(buf.String())
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", lineNo, err)
		}
		if ok {
			out = append(out, expr)
		}
		buf.Reset()
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("scanning configuration: %w", err)
	}
	if inBackticks {
		return nil, errors.New("backtick block left open at end of configuration")
	}
	return out, nil
}

// ruleExpression returns the @rx argument of one logical directive line,
// and whether it has one.
func ruleExpression(l string) (string, bool, error) {
	dir, opts, _ := strings.Cut(l, " ")
	if !strings.EqualFold(dir, "SecRule") {
		return "", false, nil
	}
	if len(opts) >= 3 && opts[0] == '"' && opts[len(opts)-1] == '"' {
		opts = strings.Trim(opts, `"`)
	}
	operator, err := ruleOperator(opts)
	if err != nil {
		return "", false, err
	}
	switch {
	case operator == "" || operator[0] != '@' && operator[0] != '!':
		operator = "@rx " + operator
	case operator == "!":
		operator = "!@rx"
	case len(operator) > 1 && operator[0] == '!' && operator[1] != '@':
		operator = "!@rx " + operator[1:]
	}
	opRaw, argRaw, _ := strings.Cut(operator, " ")
	op := strings.TrimSpace(opRaw)
	switch {
	case op[0] == '@':
		op = op[1:]
	case len(op) > 2 && op[0] == '!' && op[1] == '@':
		op = op[2:]
	}
	if op != "rx" {
		return "", false, nil
	}
	return strings.TrimSpace(argRaw), true, nil
}

// ruleOperator extracts the operator string from the options of a SecRule
// (variables, quoted operator, optional quoted actions).
func ruleOperator(data string) (string, error) {
	data = strings.Trim(data, " ")
	_, rest, ok := strings.Cut(data, " ")
	if !ok {
		return "", fmt.Errorf("SecRule without an operator: %q", data)
	}
	rest = strings.TrimLeft(rest, " ")
	if rest == "" || rest[0] != '"' {
		return "", fmt.Errorf("SecRule operator is not quoted: %q", data)
	}
	op, err := quoted(rest)
	if err != nil {
		return "", err
	}
	return unescapeQuotes(op[1 : len(op)-1]), nil
}

// quoted returns the leading double-quoted string of s, quotes included:
// a quote preceded by an odd number of backslashes does not end it.
func quoted(s string) (string, error) {
	backslashes := 0
	for i := 1; i < len(s); i++ {
		switch {
		case s[i] == '\\':
			backslashes++
		case s[i] != '"':
			backslashes = 0
		case backslashes%2 == 1:
			backslashes = 0
		default:
			return s[:i+1], nil
		}
	}
	return "", fmt.Errorf("SecRule operator has no closing quote: %q", s)
}

// unescapeQuotes turns `\"` into `"`, the only escape SecLang quoted
// strings know; other backslashes stay for the expression.
func unescapeQuotes(s string) string {
	return strings.ReplaceAll(s, `\"`, `"`)
}
