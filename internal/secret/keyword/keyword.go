// Package keyword finds every occurrence of many keywords in a text in one
// pass, ignoring ASCII case: the secret scanner's prefilter, which decides
// which rules' regular expressions run at all.
//
// It is a dense Aho-Corasick automaton: one table lookup per input byte,
// overlapping matches, no allocation while searching. The libraries that
// were measured for this job either allocate for every match and run at a
// twentieth of this speed in overlapping mode (petar-dambovaliev/aho-corasick,
// BobuSumisu/aho-corasick, which also need a lower-cased copy of the input),
// or have no case-insensitive mode (coregx/ahocorasick).
package keyword

import (
	"errors"
	"fmt"
	"unicode/utf8"
)

// Hit is one occurrence of a keyword: text[Start:End] equals the keyword
// up to case.
type Hit struct {
	ID         int // index of the keyword in the list given to New
	Start, End int
}

// Matcher is a compiled set of keywords. It is safe for concurrent use.
type Matcher struct {
	keywords []string
	class    [256]uint8 // input byte → column of the transition table
	ncls     int
	// trans[state*ncls+class] is the next state, premultiplied by ncls,
	// with matchFlag set when that state ends at least one keyword.
	trans []uint32
	// outs[outAt[s]:outAt[s+1]] are the keywords (with their byte length)
	// that end in state s, including those of its suffix states.
	outAt []int32
	outs  []out
}

type out struct {
	id, len int32
}

const matchFlag = 1 << 31

// maxVariants bounds the spellings one keyword expands to (see New).
const maxVariants = 16

// New compiles the keywords. Matching ignores ASCII case; besides, as Go's
// (?i) does, "k" also matches the Kelvin sign (U+212A) and "s" the long s
// (U+017F), so that a case-insensitive rule's keyword cannot be dodged
// with those two letters. Empty keywords are an error.
func New(keywords []string) (*Matcher, error) {
	m := &Matcher{keywords: append([]string(nil), keywords...)}
	type node struct {
		next map[byte]int32
		outs []out
	}
	nodes := []node{{next: map[byte]int32{}}}
	used := [256]bool{}
	for id, kw := range keywords {
		if kw == "" {
			return nil, errors.New("keyword: empty keyword")
		}
		for _, v := range variants(lowerASCII(kw)) {
			s := int32(0)
			for i := 0; i < len(v); i++ {
				b := v[i]
				used[b] = true
				nx, ok := nodes[s].next[b]
				if !ok {
					nx = int32(len(nodes))
					nodes = append(nodes, node{next: map[byte]int32{}})
					nodes[s].next[b] = nx
				}
				s = nx
			}
			nodes[s].outs = append(nodes[s].outs, out{int32(id), int32(len(v))})
		}
	}
	// Columns: one per byte that occurs in a keyword (upper and lower case
	// of a letter share one), and column 0 for every other byte.
	m.ncls = 1
	for b := 0; b < 256; b++ {
		if !used[b] {
			continue
		}
		if b >= 'A' && b <= 'Z' {
			continue // keywords are lower-cased; never used
		}
		m.class[b] = uint8(m.ncls)
		if b >= 'a' && b <= 'z' {
			m.class[b-'a'+'A'] = uint8(m.ncls)
		}
		m.ncls++
	}
	if m.ncls > 256 {
		return nil, fmt.Errorf("keyword: %d byte classes", m.ncls)
	}

	// Breadth-first: failure links, dense transitions, merged outputs.
	n := len(nodes)
	if uint64(n)*uint64(m.ncls) >= matchFlag {
		return nil, fmt.Errorf("keyword: automaton too large (%d states)", n)
	}
	fail := make([]int32, n)
	m.trans = make([]uint32, n*m.ncls)
	outs := make([][]out, n)
	queue := make([]int32, 0, n)
	clsByte := make([]byte, m.ncls) // the keyword byte of each class
	for b := 0; b < 256; b++ {
		if used[b] {
			clsByte[m.class[b]] = byte(b)
		}
	}
	for c := 1; c < m.ncls; c++ {
		if nx, ok := nodes[0].next[clsByte[c]]; ok {
			m.trans[c] = uint32(nx)
			fail[nx] = 0
			queue = append(queue, nx)
		}
	}
	outs[0] = nodes[0].outs
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		outs[s] = append(append([]out(nil), nodes[s].outs...), outs[fail[s]]...)
		for c := 0; c < m.ncls; c++ {
			nx, ok := nodes[s].next[clsByte[c]]
			if c == 0 || !ok {
				m.trans[int(s)*m.ncls+c] = m.trans[int(fail[s])*m.ncls+c]
				continue
			}
			fail[nx] = int32(m.trans[int(fail[s])*m.ncls+c])
			m.trans[int(s)*m.ncls+c] = uint32(nx)
			queue = append(queue, nx)
		}
	}
	// Premultiply and flag.
	m.outAt = make([]int32, n+1)
	for s := 0; s < n; s++ {
		m.outAt[s] = int32(len(m.outs))
		m.outs = append(m.outs, outs[s]...)
	}
	m.outAt[n] = int32(len(m.outs))
	for i, t := range m.trans {
		v := t * uint32(m.ncls)
		if len(outs[t]) > 0 {
			v |= matchFlag
		}
		m.trans[i] = v
	}
	return m, nil
}

// Len is the number of keywords.
func (m *Matcher) Len() int { return len(m.keywords) }

// Keyword returns keyword id as given to New.
func (m *Matcher) Keyword(id int) string { return m.keywords[id] }

// AppendHits appends every occurrence of every keyword in text to dst, in
// order of their end, and returns the extended slice. Occurrences may
// overlap.
func (m *Matcher) AppendHits(dst []Hit, text []byte) []Hit {
	trans, ncls, cls := m.trans, uint32(m.ncls), &m.class
	s := uint32(0)
	for i, b := range text {
		s = trans[s+uint32(cls[b])]
		if s&matchFlag != 0 {
			s &^= matchFlag
			st := s / ncls
			for _, o := range m.outs[m.outAt[st]:m.outAt[st+1]] {
				dst = append(dst, Hit{ID: int(o.id), Start: i + 1 - int(o.len), End: i + 1})
			}
		}
	}
	return dst
}

// Contains reports whether any keyword occurs in text.
func (m *Matcher) Contains(text []byte) bool {
	trans, cls := m.trans, &m.class
	s := uint32(0)
	for _, b := range text {
		s = trans[s+uint32(cls[b])]
		if s&matchFlag != 0 {
			return true
		}
	}
	return false
}

func lowerASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

var (
	kelvin = string(rune(0x212A)) // folds to k in Go's (?i)
	longS  = string(rune(0x017F)) // folds to s
)

// variants returns kw and its spellings with the Kelvin sign for k and
// the long s for s, up to maxVariants in all.
func variants(kw string) []string {
	if !utf8.ValidString(kw) {
		return []string{kw}
	}
	out := []string{""}
	for _, r := range kw {
		alts := []string{string(r)}
		switch r {
		case 'k':
			alts = append(alts, kelvin)
		case 's':
			alts = append(alts, longS)
		}
		next := make([]string, 0, len(out)*2)
		for _, p := range out {
			for j, a := range alts {
				if j > 0 && len(next) >= maxVariants {
					break
				}
				next = append(next, p+a)
			}
		}
		out = next
	}
	return out
}
