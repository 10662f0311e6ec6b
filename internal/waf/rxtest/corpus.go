package rxtest

import (
	"regexp"
	"regexp/syntax"
	"slices"
)

// Expr is one expression compiled the way Seawall's @rx operator
// compiles it: with the "(?sm)" prefix Coraza adds, by regexp and, for
// generating matches, by regexp/syntax with regexp's flags.
type Expr struct {
	Source string // the expression as matched, prefix included
	Re     *regexp.Regexp
	Tree   *syntax.Regexp // simplified, as regexp compiles it
}

// CRSCorpus returns the distinct @rx expressions of the embedded CRS,
// sorted, each compiled as in Expr. Expressions Go's regexp rejects are
// left out.
func CRSCorpus() ([]Expr, error) {
	exprs, err := CRSExpressions()
	if err != nil {
		return nil, err
	}
	slices.Sort(exprs)
	exprs = slices.Compact(exprs)
	var out []Expr
	for _, e := range exprs {
		src := "(?sm)" + e
		re, err := regexp.Compile(src)
		if err != nil {
			continue
		}
		tree, err := syntax.Parse(src, syntax.Perl)
		if err != nil {
			return nil, err // regexp.Compile parses with the same flags
		}
		out = append(out, Expr{Source: src, Re: re, Tree: tree.Simplify()})
	}
	return out, nil
}
