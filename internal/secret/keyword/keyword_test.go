package keyword

import (
	"bytes"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// naive finds the same hits the slow way.
func naive(kws []string, text []byte) []Hit {
	var out []Hit
	low := bytes.ToLower(text) // ASCII-only text in the tests that use this
	for id, kw := range kws {
		k := []byte(strings.ToLower(kw))
		for i := 0; i+len(k) <= len(low); i++ {
			if bytes.Equal(low[i:i+len(k)], k) {
				out = append(out, Hit{ID: id, Start: i, End: i + len(k)})
			}
		}
	}
	return out
}

func sortHits(h []Hit) {
	sort.Slice(h, func(i, j int) bool {
		if h[i].End != h[j].End {
			return h[i].End < h[j].End
		}
		if h[i].Start != h[j].Start {
			return h[i].Start < h[j].Start
		}
		return h[i].ID < h[j].ID
	})
}

func TestHits(t *testing.T) {
	tests := []struct {
		name string
		kws  []string
		text string
		want []Hit
	}{
		{"none", []string{"key"}, "nothing here", nil},
		{"case", []string{"AKIA"}, "x akia AKIA AkIa", []Hit{{0, 2, 6}, {0, 7, 11}, {0, 12, 16}}},
		{"overlap", []string{"he", "she", "hers", "his"}, "ushers", []Hit{{1, 1, 4}, {0, 2, 4}, {2, 2, 6}}},
		{"nested", []string{"key", "apikey", "api_key"}, "APIKEY api_key", []Hit{{1, 0, 6}, {0, 3, 6}, {2, 7, 14}, {0, 11, 14}}},
		{"repeat", []string{"aa"}, "aaaa", []Hit{{0, 0, 2}, {0, 1, 3}, {0, 2, 4}}},
		{"kelvin", []string{"key"}, "\u212Aey", []Hit{{0, 0, 5}}},
		{"long s", []string{"secret"}, "\u017Fecret", []Hit{{0, 0, 7}}},
		{"non-ascii keyword", []string{"pässwort"}, "PÄSSWORT pässwort", []Hit{{0, 10, 19}}},
		{"invalid utf-8", []string{"k\xffy"}, "k\xffy K\xffY", []Hit{{0, 0, 3}, {0, 4, 7}}},
		{"binary", []string{"tok"}, "\x00\xfftok\x00", []Hit{{0, 2, 5}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := New(tt.kws)
			if err != nil {
				t.Fatal(err)
			}
			got := m.AppendHits(nil, []byte(tt.text))
			sortHits(got)
			sortHits(tt.want)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("hits (-want +got):\n%s", diff)
			}
			if m.Contains([]byte(tt.text)) != (len(tt.want) > 0) {
				t.Errorf("Contains = %v", !(len(tt.want) > 0))
			}
		})
	}
}

func TestEmptyKeyword(t *testing.T) {
	if _, err := New([]string{"a", ""}); err == nil {
		t.Fatal("want an error for an empty keyword")
	}
}

// TestRandom compares the automaton with a naive search on random texts
// over a small alphabet, where overlaps and shared suffixes abound.
func TestRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	alpha := "abAB_-"
	word := func(n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = alpha[r.IntN(len(alpha))]
		}
		return string(b)
	}
	for i := 0; i < 300; i++ {
		var kws []string
		seen := map[string]bool{}
		for len(kws) < 1+r.IntN(12) {
			w := strings.ToLower(word(1 + r.IntN(5)))
			if !seen[w] {
				seen[w] = true
				kws = append(kws, w)
			}
		}
		text := []byte(word(r.IntN(200)))
		m, err := New(kws)
		if err != nil {
			t.Fatal(err)
		}
		got := m.AppendHits(nil, text)
		want := naive(kws, text)
		sortHits(got)
		sortHits(want)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("keywords %q text %q (-want +got):\n%s", kws, text, diff)
		}
	}
}

func FuzzMatcher(f *testing.F) {
	f.Add("key,token", []byte("api_KEY = token"))
	f.Add("a,aa,aaa", []byte("aaaa"))
	f.Fuzz(func(t *testing.T, list string, text []byte) {
		var kws []string
		for _, k := range strings.Split(list, ",") {
			if k != "" && len(kws) < 50 {
				kws = append(kws, k)
			}
		}
		if len(kws) == 0 {
			return
		}
		m, err := New(kws)
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range m.AppendHits(nil, text) {
			if h.Start < 0 || h.End > len(text) || h.Start >= h.End {
				t.Fatalf("hit %+v out of range for %d bytes", h, len(text))
			}
		}
	})
}

func BenchmarkAppendHits(b *testing.B) {
	kws := []string{"key", "token", "secret", "password", "akia", "ghp_", "glpat-", "xoxb-", "sk_live_", "-----begin", "api", "auth", "access", "credential"}
	m, err := New(kws)
	if err != nil {
		b.Fatal(err)
	}
	r := rand.New(rand.NewPCG(3, 4))
	text := make([]byte, 4<<20)
	words := []string{"func ", "return ", "value", "i := 0", "\n", "\t", "if err != nil {", "keyboard", "for ", "range ", "x, y", "// comment ", "{", "}"}
	for i := 0; i < len(text); {
		i += copy(text[i:], words[r.IntN(len(words))])
	}
	b.SetBytes(int64(len(text)))
	var hits []Hit
	for b.Loop() {
		hits = m.AppendHits(hits[:0], text)
	}
}
