package waf

import (
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"unicode/utf8"

	"github.com/corazawaf/coraza/v3/experimental/plugins"
	"github.com/corazawaf/coraza/v3/experimental/plugins/plugintypes"
	"rsc.io/binaryregexp"

	"github.com/seawall-dev/seawall/internal/waf/rxdfa"
	"github.com/seawall-dev/seawall/internal/waf/rxfilter"
)

// Seawall replaces Coraza's @rx operator with one that has the same
// semantics and two savings, which matter because every CRS rule runs its
// expression on every argument:
//
//   - a sound prefilter (package rxfilter) proves most values cannot match
//     from their length and the literals the expression requires, without
//     running the expression;
//   - whether the expression matches is answered by a lazily built DFA
//     (package rxdfa), one table lookup per byte once warm, where Go's
//     regexp simulates an NFA; only a value that matches runs through
//     regexp, for the capture groups of rules that capture.
//
// Coraza's own SecRxPreFilter is not used: it decides some expressions
// cannot match when they can (see rxPrefilter).
func init() {
	plugins.RegisterOperator("rx", newRX)
}

// dfaBudget is the memory the @rx DFAs of this process build their states
// from: with the CRS, ordinary traffic needs a few MiB; crafted inputs can
// make them use this much, and no more, before regexp takes over for what
// they have not built.
var dfaBudget = rxdfa.NewBudget(64 << 20)

// dfaFallbacks counts the values the DFAs had no answer for within the
// budget, which regexp answered instead: a number that keeps growing means
// traffic (or an attacker) drives the automata through far more states
// than ordinary requests do.
var dfaFallbacks atomic.Int64

// rxOp is @rx for one expression. It holds nothing per rule, so every
// rule with the same expression shares one, with its DFA's states.
type rxOp struct {
	re     *regexp.Regexp
	filter *rxfilter.Filter
	dfa    *rxdfa.DFA // nil when the expression has no DFA
}

func newRX(opts plugintypes.OperatorOptions) (plugintypes.Operator, error) {
	// Coraza compiles @rx in dot-all and multi-line mode, as ModSecurity
	// does (the default build of v3.8.1); the same here.
	expr := "(?sm)" + opts.Arguments
	if matchesArbitraryBytes(expr) {
		return newBinaryRX(opts)
	}
	v, err := memoize(opts.Memoizer, "seawall/rx:"+expr, func() (any, error) {
		re, err := regexp.Compile(expr)
		if err != nil {
			return nil, err
		}
		f, err := rxfilter.Compile(expr)
		if err != nil {
			return nil, err
		}
		op := &rxOp{re: re, filter: f}
		// When the process's budget is spent (after many reloads with
		// new expressions, or crafted traffic), an expression compiled
		// from then on gets no DFA and is answered by regexp.
		op.dfa, _ = rxdfa.Compile(expr, dfaBudget)
		return op, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*rxOp), nil
}

func (o *rxOp) Evaluate(tx plugintypes.TransactionState, value string) bool {
	if !o.filter.MayMatch(value) {
		return false
	}
	if !o.matches(value) {
		return false
	}
	if !tx.Capturing() {
		return true
	}
	return capture(tx, value, o.re.FindStringSubmatchIndex(value))
}

// matches answers with the DFA, or with regexp where the DFA has no
// answer within its state budget.
func (o *rxOp) matches(value string) bool {
	if o.dfa != nil {
		if m, err := o.dfa.Match(value); err == nil {
			return m
		}
		dfaFallbacks.Add(1)
	}
	return o.re.MatchString(value)
}

// capture sets TX:0 to TX:8 from a match's submatch indexes, as Coraza's
// operator does: a group that did not take part is set to "".
func capture(tx plugintypes.TransactionState, value string, m []int) bool {
	if m == nil {
		return false
	}
	for i := 0; i < len(m)/2 && i < 9; i++ {
		if m[2*i] >= 0 {
			tx.CaptureField(i, value[m[2*i]:m[2*i+1]])
		} else {
			tx.CaptureField(i, "")
		}
	}
	return true
}

// binaryRX is @rx for expressions that match bytes that are not UTF-8
// (such as \xff): Go's regexp matches runes, so these use binaryregexp,
// as Coraza does. They are rare and not prefiltered.
type binaryRX struct {
	re *binaryregexp.Regexp
}

func newBinaryRX(opts plugintypes.OperatorOptions) (plugintypes.Operator, error) {
	v, err := memoize(opts.Memoizer, "seawall/binrx:"+opts.Arguments, func() (any, error) {
		return binaryregexp.Compile(opts.Arguments)
	})
	if err != nil {
		return nil, err
	}
	return &binaryRX{re: v.(*binaryregexp.Regexp)}, nil
}

func (o *binaryRX) Evaluate(tx plugintypes.TransactionState, value string) bool {
	if !tx.Capturing() {
		return o.re.MatchString(value)
	}
	return capture(tx, value, o.re.FindStringSubmatchIndex(value))
}

func memoize(m plugintypes.Memoizer, key string, fn func() (any, error)) (any, error) {
	if m == nil {
		return fn()
	}
	return m.Do(key, fn)
}

// matchesArbitraryBytes reports whether expr spells out, with \xNN or
// \x{NN} escapes, bytes that do not form UTF-8: such an expression is
// meant to match raw bytes. This is the test Coraza applies.
func matchesArbitraryBytes(expr string) bool {
	decoded := make([]byte, 0, len(expr))
	for i := 0; i < len(expr); i++ {
		c := expr[i]
		if c != '\\' {
			decoded = append(decoded, c)
			continue
		}
		if i+3 >= len(expr) {
			decoded = append(decoded, expr[i:]...)
			break
		}
		if expr[i+1] != 'x' {
			decoded = append(decoded, c)
			continue
		}
		sub, advance := expr[i:], 3
		if len(sub) >= 6 && sub[2] == '{' {
			if end := strings.IndexByte(sub, '}'); end != -1 {
				sub, advance = `\x`+sub[3:end], end
			}
		}
		v, multibyte, _, err := strconv.UnquoteChar(sub, 0)
		if err != nil || multibyte {
			decoded = append(decoded, c)
			continue
		}
		decoded = append(decoded, byte(v))
		i += advance
	}
	return !utf8.Valid(decoded)
}
