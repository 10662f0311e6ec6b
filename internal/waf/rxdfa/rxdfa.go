// Package rxdfa answers "does this regular expression match anywhere in
// this string?" with a lazily built deterministic automaton.
//
// Go's regexp simulates the expression's NFA (or backtracks, for small
// ones) on every call, which costs time proportional to the input times
// the number of threads alive. A WAF asks that question of hundreds of
// expressions for every argument of every request, almost always getting
// "no". Here the automaton's states are built on first use and cached, so
// once warm a call costs one table lookup per input byte, for any
// expression, and stays linear in the input.
//
// The semantics are those of regexp.MatchString on the same expression,
// including Go's handling of invalid UTF-8 (each bad byte reads as U+FFFD)
// and the empty-width assertions ^ $ \A \z \b \B in single- and multi-line
// mode. Only match existence is answered; captures still need regexp.
//
// A DFA has a memory budget for its states, so that no input, however
// crafted, makes it grow without bound. An expression whose automaton
// would outgrow it answers ErrBudget for the inputs that would need new
// states, and the caller uses regexp for those.
package rxdfa

import (
	"encoding/binary"
	"errors"
	"regexp/syntax"
	"slices"
	"sync"
	"sync/atomic"
	"unicode/utf8"
)

// ErrBudget is returned by Match when answering would need more states
// than the DFA may build. The answer is then unknown and the caller must
// run the expression another way.
var ErrBudget = errors.New("rxdfa: state budget exhausted")

// MaxBytes bounds the memory one DFA's states may take, whatever its
// Budget holds: the states a CRS expression needs for ordinary traffic take
// tens of KiB, and the largest CRS expressions about 1 MiB when driven
// through every part of their automaton by generated matches.
const MaxBytes = 2 << 20

// Budget is memory that DFAs build their states from. One Budget shared by
// every DFA of a process bounds what crafted inputs can make them hold
// together. It is safe for concurrent use.
type Budget struct {
	size int64
	left atomic.Int64
}

// NewBudget returns a Budget of n bytes.
func NewBudget(n int64) *Budget {
	b := &Budget{size: n}
	b.left.Store(n)
	return b
}

// Used is how many bytes DFAs have taken from b so far.
func (b *Budget) Used() int64 { return b.size - b.left.Load() }

func (b *Budget) take(n int) bool {
	if b.left.Add(-int64(n)) < 0 {
		b.left.Add(int64(n))
		return false
	}
	return true
}

// prevKind is what the rune before a position was, which is all the
// empty-width assertions need to know about it.
type prevKind uint8

const (
	prevStart prevKind = iota // no rune: the start of the text
	prevNewline
	prevWord
	prevOther
	numPrevKinds
)

// representative runes for each prevKind, for syntax.EmptyOpContext.
var prevRune = [numPrevKinds]rune{-1, '\n', 'a', ' '}

func kindOf(r rune) prevKind {
	switch {
	case r == '\n':
		return prevNewline
	case syntax.IsWordChar(r):
		return prevWord
	}
	return prevOther
}

// DFA is the lazily built automaton of one expression. It is safe for
// concurrent use: a warm state's transitions are read without locking.
type DFA struct {
	prog *syntax.Prog

	// classes maps each ASCII byte to its equivalence class: bytes in one
	// class are matched by the same instructions and affect the
	// assertions the same way, so they share transitions.
	classes  [utf8.RuneSelf]uint8
	rep      []rune // a representative of each class
	nclasses int

	start *state

	mu       sync.Mutex // guards states, bytes and stores into wide
	states   map[string]*state
	wide     sync.Map // wideKey → *state: transitions on non-ASCII runes, read without locking
	bytes    int      // memory held by states and wide, roughly
	maxBytes int
	budget   *Budget
}

// Rough memory costs for the budget: a state's fixed part and map entry,
// and one cached transition on a non-ASCII rune.
const (
	stateCost = 96
	wideCost  = 48
)

type wideKey struct {
	from *state
	r    rune
}

// state is a set of NFA instructions threads are waiting at, before the
// closure over empty-width instructions (which depends on the next rune),
// and what the previous rune was.
type state struct {
	insts []uint32
	prev  prevKind
	// next holds the transition on each ASCII class; nil until computed.
	next []atomic.Pointer[state]
	// end caches whether the text may end here with a match: 0 unknown,
	// 1 no, 2 yes.
	end atomic.Int32
}

// matched is the state reached once a match has been seen: for match
// existence nothing after it matters.
var matched = &state{}

// Compile parses expr with regexp.Compile's flags and returns its DFA,
// which builds its states from b (nil: a Budget of its own, of MaxBytes).
func Compile(expr string, b *Budget) (*DFA, error) {
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return nil, err
	}
	return New(re, b)
}

// New returns the DFA of a parsed expression, which must have been parsed
// with the flags it is meant to match with. Its states come from b (nil: a
// Budget of its own, of MaxBytes).
func New(re *syntax.Regexp, b *Budget) (*DFA, error) {
	if b == nil {
		b = NewBudget(MaxBytes)
	}
	prog, err := syntax.Compile(re.Simplify())
	if err != nil {
		return nil, err
	}
	d := &DFA{
		prog:     prog,
		states:   make(map[string]*state),
		maxBytes: MaxBytes,
		budget:   b,
	}
	d.buildClasses()
	d.start = d.intern([]uint32{uint32(prog.Start)}, prevStart)
	if d.start == nil {
		return nil, ErrBudget
	}
	return d, nil
}

// buildClasses groups the ASCII bytes by signature: which rune
// instructions match them, plus their effect on assertions.
func (d *DFA) buildClasses() {
	var consuming []int
	for pc, in := range d.prog.Inst {
		switch in.Op {
		case syntax.InstRune, syntax.InstRune1, syntax.InstRuneAny, syntax.InstRuneAnyNotNL:
			consuming = append(consuming, pc)
		}
	}
	bySig := map[string]uint8{}
	sig := make([]byte, 0, len(consuming)/8+2)
	for c := rune(0); c < utf8.RuneSelf; c++ {
		sig = sig[:0]
		sig = append(sig, byte(kindOf(c)))
		var acc byte
		for i, pc := range consuming {
			if d.prog.Inst[pc].MatchRune(c) {
				acc |= 1 << (i % 8)
			}
			if i%8 == 7 {
				sig = append(sig, acc)
				acc = 0
			}
		}
		sig = append(sig, acc)
		cls, ok := bySig[string(sig)]
		if !ok {
			cls = uint8(len(d.rep))
			bySig[string(sig)] = cls
			d.rep = append(d.rep, c)
		}
		d.classes[c] = cls
	}
	d.nclasses = len(d.rep)
}

// Match reports whether the expression matches anywhere in s. It returns
// ErrBudget, with false, when the answer needs more states than the
// budget allows.
func (d *DFA) Match(s string) (bool, error) {
	st := d.start
	for i := 0; i < len(s); {
		var (
			next *state
			err  error
		)
		if c := s[i]; c < utf8.RuneSelf {
			cls := d.classes[c]
			next = st.next[cls].Load()
			if next == nil {
				next, err = d.step(st, d.rep[cls])
				if err != nil {
					return false, err
				}
				st.next[cls].Store(next)
			}
			i++
		} else {
			r, size := utf8.DecodeRuneInString(s[i:])
			next, err = d.stepWide(st, r)
			if err != nil {
				return false, err
			}
			i += size
		}
		if next == matched {
			return true, nil
		}
		st = next
	}
	switch st.end.Load() {
	case 1:
		return false, nil
	case 2:
		return true, nil
	}
	m := d.closure(st, syntax.EmptyOpContext(prevRune[st.prev], -1), nil)
	if m {
		st.end.Store(2)
	} else {
		st.end.Store(1)
	}
	return m, nil
}

// stepWide is the transition on a non-ASCII rune: these are cached per
// (state, rune), as the ASCII classes cannot hold them.
func (d *DFA) stepWide(st *state, r rune) (*state, error) {
	k := wideKey{st, r}
	if next, ok := d.wide.Load(k); ok {
		return next.(*state), nil
	}
	next, err := d.step(st, r)
	if err != nil {
		return nil, err
	}
	d.mu.Lock()
	if _, ok := d.wide.Load(k); !ok && d.bytes+wideCost <= d.maxBytes && d.budget.take(wideCost) {
		d.wide.Store(k, next)
		d.bytes += wideCost
	}
	d.mu.Unlock()
	return next, nil
}

// step computes the state after reading r in st.
func (d *DFA) step(st *state, r rune) (*state, error) {
	flags := syntax.EmptyOpContext(prevRune[st.prev], r)
	var consumers []uint32
	if d.closure(st, flags, &consumers) {
		return matched, nil
	}
	var next []uint32
	for _, pc := range consumers {
		in := &d.prog.Inst[pc]
		if in.MatchRune(r) {
			next = append(next, in.Out)
		}
	}
	// The search is unanchored: a new thread starts at every position.
	next = append(next, uint32(d.prog.Start))
	slices.Sort(next)
	next = slices.Compact(next)
	ns := d.intern(next, kindOf(r))
	if ns == nil {
		return nil, ErrBudget
	}
	return ns, nil
}

// closure follows the empty transitions from st's instructions under the
// assertion flags of the current position. It reports whether a match
// instruction is reached; the rune-consuming instructions reached are
// appended to consumers, if not nil.
func (d *DFA) closure(st *state, flags syntax.EmptyOp, consumers *[]uint32) bool {
	seen := make([]bool, len(d.prog.Inst))
	stack := make([]uint32, 0, len(st.insts)*2)
	stack = append(stack, st.insts...)
	for len(stack) > 0 {
		pc := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[pc] {
			continue
		}
		seen[pc] = true
		in := &d.prog.Inst[pc]
		switch in.Op {
		case syntax.InstMatch:
			return true
		case syntax.InstAlt, syntax.InstAltMatch:
			stack = append(stack, in.Out, in.Arg)
		case syntax.InstCapture, syntax.InstNop:
			stack = append(stack, in.Out)
		case syntax.InstEmptyWidth:
			if syntax.EmptyOp(in.Arg)&^flags == 0 {
				stack = append(stack, in.Out)
			}
		case syntax.InstRune, syntax.InstRune1, syntax.InstRuneAny, syntax.InstRuneAnyNotNL:
			if consumers != nil {
				*consumers = append(*consumers, pc)
			}
		}
	}
	return false
}

// intern returns the one state for these instructions and previous rune,
// creating it if the budget allows; nil if it does not.
func (d *DFA) intern(insts []uint32, prev prevKind) *state {
	key := make([]byte, 1, 1+4*len(insts))
	key[0] = byte(prev)
	for _, pc := range insts {
		key = binary.LittleEndian.AppendUint32(key, pc)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if st, ok := d.states[string(key)]; ok {
		return st
	}
	cost := stateCost + len(key) + 4*len(insts) + 8*d.nclasses
	if d.bytes+cost > d.maxBytes || !d.budget.take(cost) {
		return nil
	}
	st := &state{insts: insts, prev: prev, next: make([]atomic.Pointer[state], d.nclasses)}
	d.states[string(key)] = st
	d.bytes += cost
	return st
}

// States is the number of states built so far.
func (d *DFA) States() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.states)
}
