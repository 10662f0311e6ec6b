package waf_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// redosRules are pass-through rules whose expressions backtrack
// catastrophically in a backtracking engine such as PCRE:
//
//   - 10101 matches "a…a!" only through its second branch, after the first
//     branch, (a|a)+b, has failed in 2^n ways. PCRE either takes
//     exponential time or, with ModSecurity's match limits, gives up and
//     lets the request through.
//   - 10102, ^(\w+\s?)*$, fails on "ab ab … ab!" after trying every way to
//     split the words.
const redosRules = `SecRule ARGS:redos "@rx ^(?:(a|a)+b|a+!)$" "id:10101,phase:2,deny,status:403,log,msg:'ReDoS probe: nested alternation'"
SecRule ARGS:redos2 "@rx ^(\w+\s?)*$" "id:10102,phase:2,deny,status:403,log,msg:'ReDoS probe: nested quantifier'"
`

// TestReDoSLinear checks that hostile inputs built for catastrophic
// backtracking cost Seawall time linear in their length: the time for an
// input 8 times longer must stay within a generous multiple of 8 of the
// time for the shorter one (a backtracking engine needs 2^n steps and
// never finishes at these lengths), and the rule that must match still
// matches, where an engine with a backtracking limit would let it pass.
func TestReDoSLinear(t *testing.T) {
	w := redosWAF(t)

	// serve returns the fastest of several runs, which is the least
	// disturbed by other work on the machine.
	serve := func(t *testing.T, body string, want int) time.Duration {
		t.Helper()
		best := time.Duration(1<<63 - 1)
		for range 5 {
			req := httptest.NewRequest("POST", "/r", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("User-Agent", "seawall-test")
			req.Header.Set("Accept", "*/*")
			rec := httptest.NewRecorder()
			start := time.Now()
			w.ServeHTTP(rec, req)
			d := time.Since(start)
			if rec.Code != want {
				t.Fatalf("status %d for a %d-byte body, want %d", rec.Code, len(body), want)
			}
			best = min(best, d)
		}
		return best
	}

	tests := []struct {
		name  string
		input func(n int) string
		want  int
	}{
		{"nested alternation, must match", func(n int) string { return "redos=" + strings.Repeat("a", n) + "!" }, http.StatusForbidden},
		{"nested quantifier, must not match", func(n int) string { return "redos2=" + strings.Repeat("ab+", n/3) + "!" }, http.StatusOK},
	}
	const n, factor, bound = 12500, 8, 24.0 // linear is 8; bound allows 3 times that
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			serve(t, tc.input(n), tc.want) // warm up
			short := serve(t, tc.input(n), tc.want)
			long := serve(t, tc.input(n*factor), tc.want)
			ratio := float64(long) / float64(max(short, time.Microsecond))
			t.Logf("%d bytes: %s; %d bytes: %s; ratio %.1f (linear: %d)", n, short, n*factor, long, ratio, factor)
			if ratio > bound {
				t.Errorf("an input %d times longer took %.1f times as long (%s vs %s); want at most %.0f", factor, ratio, long, short, bound)
			}
		})
	}
}
