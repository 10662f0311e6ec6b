package secret

import (
	"bytes"
	"context"
	"math/rand/v2"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/seawall-dev/seawall/internal/image"
	"github.com/seawall-dev/seawall/internal/inventory"
	"github.com/seawall-dev/seawall/internal/secret/gitleaks"
)

// The hostile-input tests compare a scan of n bytes with a scan of 4n
// bytes of the same kind of input, so that they hold on a slow or busy
// machine: linear time means about 4 times the CPU time (quadratic would
// be 16), and bounded memory means that the bytes allocated grow by far
// less than the input: a scan that kept the file, or a copy of each long
// line, would allocate at least a byte per byte. (What does grow is
// garbage: Go's regexp returns each match in a new slice.)
const (
	maxTimeRatio = 8.0     // 4n may take at most this many times n's CPU time
	allocSlack   = 1 << 20 // and allocate this much more than n,
	allocPerByte = 1.0 / 8 // plus this much per extra byte of input
)

// threadCPU is the CPU time of the calling OS thread: the scan runs on it
// alone, so other processes and the garbage collector's own threads do
// not count.
func threadCPU(t *testing.T) time.Duration {
	t.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_THREAD, &ru); err != nil {
		t.Fatalf("getrusage: %v", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// cost scans data once and returns the findings, the CPU time and the
// bytes allocated meanwhile.
func cost(t *testing.T, s *Scanner, path string, data []byte) ([]inventory.Finding, time.Duration, uint64) {
	t.Helper()
	f := image.NewFile(path, 0o644, data)
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := threadCPU(t)
	out, err := s.Scan(context.Background(), f)
	took := threadCPU(t) - start
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	return out, took, after.TotalAlloc - before.TotalAlloc
}

// scaling scans gen(n) and gen(4n) three times each and fails unless
// time grows linearly and allocation not at all; n should exceed the
// scanner's chunk size. The cheapest run of each size counts: noise only
// ever adds, and a garbage collection between runs may empty the pool
// that keeps a scan's buffers for the next.
func scaling(t *testing.T, s *Scanner, path string, n int, gen func(int) []byte) (small, big []inventory.Finding) {
	t.Helper()
	dn, d4n := gen(n), gen(4*n)
	// Warm the pools and the lazily compiled expressions: what a scan
	// keeps for the next is sized by the chunk, not by the input.
	s.Scan(context.Background(), image.NewFile(path, 0o644, d4n))
	measure := func(data []byte) (out []inventory.Finding, tmin time.Duration, amin uint64) {
		for i := 0; i < 3; i++ {
			o, took, alloc := cost(t, s, path, data)
			if i == 0 || took < tmin {
				tmin = took
			}
			if i == 0 || alloc < amin {
				amin = alloc
			}
			out = o
		}
		return out, tmin, amin
	}
	small, tn, an := measure(dn)
	big, t4n, a4n := measure(d4n)
	// Below about 10ms of CPU a scan is too short to time on a shared
	// machine (one preemption or cache refill is a large part of it), so
	// n's time counts as at least that: 4n must then stay under 80ms,
	// which a quadratic scan of megabytes would not.
	ratio := float64(t4n) / float64(max(tn, 10*time.Millisecond))
	t.Logf("%.1f MB: %v CPU, %d KB allocated; %.1f MB: %v CPU (%.1fx), %d KB allocated",
		float64(n)/(1<<20), tn, an>>10, float64(4*n)/(1<<20), t4n, ratio, a4n>>10)
	if ratio > maxTimeRatio {
		t.Errorf("4 times the input took %.1f times the CPU time (%v, %v): not linear", ratio, tn, t4n)
	}
	if float64(a4n) > float64(an)+allocSlack+allocPerByte*float64(3*n) {
		t.Errorf("4 times the input allocated %d KB more (%d KB, %d KB): memory grows with the input", (a4n-an)>>10, an>>10, a4n>>10)
	}
	return small, big
}

// minified is one line of JavaScript-like text, dense with the default
// rules' keywords, with three secrets planted in it.
func minified(n int) []byte {
	r := rand.New(rand.NewPCG(5, 5))
	parts := []string{`var e=function(t){return t.token?t.token:null};`, `n.apiKey=o.apiKey||"";`, `if(!password)throw new Error("password required");`,
		`a.secret=b.secret;`, `u="https://cdn.example.org/x.js";`, `"eyJ";`, `key:"`, `"AKIA";`, `"ghp_";`, `"-----BEGIN ";`, `"postgres:";`, `x.auth=y;`,
		`for(var i=0;i<n;i++){s+=String.fromCharCode(i)}`}
	var b bytes.Buffer
	b.Grow(n + 1024)
	plant := []int{n / 10, n / 2, n - 5000}
	next := 0
	for b.Len() < n {
		if next < len(plant) && b.Len() >= plant[next] {
			b.WriteString(`;const t="` + "ghp_" + fake(uint64(next), alnum, 36) + `";`)
			next++
		}
		b.WriteString(parts[r.IntN(len(parts))])
	}
	return b.Bytes()
}

// TestHostileMinified: a 50 MB single-line file is scanned in linear time
// and with memory bounded by the chunk size, not the file size, with
// Seawall's rules and with gitleaks', and the secrets planted in it are
// found on line 1 with short snippets.
func TestHostileMinified(t *testing.T) {
	if testing.Short() {
		t.Skip("62 MB of input, several times")
	}
	for _, c := range []struct {
		name string
		cfg  func(*testing.T) *Config
		id   string
	}{
		{"seawall", func(*testing.T) *Config { return nil }, "github-pat"},
		{"gitleaks", gitleaksDefaultConfig, "github-pat"},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, err := New(c.cfg(t), Options{})
			if err != nil {
				t.Fatal(err)
			}
			size := 50 << 20 / 4
			if c.name == "gitleaks" {
				size = 1 << 20 // 222 rules: the same property on less input
			}
			_, got := scaling(t, s, "/app/bundle.min.js", size, minified)
			n := 0
			for _, f := range got {
				if f.ID == c.id {
					n++
					if f.Line != 1 || len(f.Snippet) > 200 {
						t.Errorf("finding on line %d with a %d-byte snippet", f.Line, len(f.Snippet))
					}
				}
			}
			if n != 3 {
				t.Errorf("found %d of the 3 planted tokens: %v", n, ids(got))
			}
		})
	}
}

// noise is random bytes with no NUL (so that it is not skipped as binary)
// and with the default rules' keywords sprinkled in.
func noise(seed uint64, high bool) func(int) []byte {
	return func(n int) []byte {
		r := rand.New(rand.NewPCG(seed, seed))
		b := make([]byte, n)
		for i := range b {
			if high {
				b[i] = byte(0x80 + r.IntN(128))
			} else {
				b[i] = byte(1 + r.IntN(255))
			}
		}
		words := []string{"token=", "password: ", "AKIA", "ghp_", "eyJ", "-----BEGIN ", "://u:"}
		for i := 0; i+64 < n; i += 4096 {
			copy(b[i:], words[(i/4096)%len(words)])
		}
		return b
	}
}

// TestHostileBinary: a binary is skipped after one look at its head, in
// constant time whatever its size; binary noise with NUL-free stretches,
// scanned on demand, stays linear, and a secret in it is found.
func TestHostileBinary(t *testing.T) {
	bin := func(n int) []byte {
		b := noise(1, false)(n)
		b[100] = 0
		return b
	}
	s, err := New(nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	small, big := bin(1<<20), bin(32<<20)
	_, tSmall, aSmall := cost(t, s, "/app/blob", small)
	got, tBig, aBig := cost(t, s, "/app/blob", big)
	t.Logf("binary: 1 MB in %v, 32 MB in %v; %d KB, %d KB allocated", tSmall, tBig, aSmall>>10, aBig>>10)
	if len(got) != 0 {
		t.Errorf("binary: %v", ids(got))
	}
	if tBig > 10*max(tSmall, time.Millisecond) || aBig > aSmall+allocSlack {
		t.Errorf("a 32 MB binary cost %v and %d KB, a 1 MB one %v and %d KB: skipping it must not depend on its size", tBig, aBig>>10, tSmall, aSmall>>10)
	}

	sb, err := New(nil, Options{ScanBinaries: true})
	if err != nil {
		t.Fatal(err)
	}
	planted := func(n int) []byte {
		b := bin(n)
		copy(b[n/2:], " token="+ghp+" ")
		return b
	}
	_, got = scaling(t, sb, "/app/blob", 4<<20, planted)
	if !strings.Contains(strings.Join(ids(got), ","), "github-pat") {
		t.Errorf("binary with ScanBinaries: %v", ids(got))
	}
}

// TestHostileInvalidUTF8: invalid UTF-8 around and inside the text never
// hides a secret and never crashes; matching is on bytes, in linear time
// and bounded memory.
func TestHostileInvalidUTF8(t *testing.T) {
	s, err := New(nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	junk := "\xff\xfe\xc3\x28\xa0\xa1\xe2\x28\xa1\xf0\x28\x8c\xbc\xed\xa0\x80"
	content := junk + "\nAWS_ACCESS_KEY_ID=" + awsID + junk + "\n" + junk + "token = \"" + ghp + "\"" + junk + "\npassword=\xff" + fake(60, alnum, 20) + "\n"
	got := ids(scanString(t, s, "/app/latin1.conf", content))
	want := "aws-access-key-id,generic-secret,github-pat" // the password starts with \xff: bytes match too
	if strings.Join(got, ",") != want {
		t.Errorf("findings %v, want %s", got, want)
	}
	for _, f := range scanString(t, s, "/app/latin1.conf", content) {
		if !strings.Contains(f.Snippet, "*****") || strings.ToValidUTF8(f.Snippet, "") != f.Snippet {
			t.Errorf("snippet %q: not masked or not valid UTF-8", f.Snippet)
		}
	}
	// Megabytes of bytes that are never valid UTF-8, with keywords in them.
	scaling(t, s, "/app/noise.txt", 2<<20, noise(2, true))
}

// TestHostileRegex: user rules that backtrack catastrophically under a
// backtracking engine run in linear time here (RE2 semantics), whatever
// strategy the scanner picks for them.
func TestHostileRegex(t *testing.T) {
	as := func(tail string) func(int) []byte {
		return func(n int) []byte { return []byte(strings.Repeat("a", n) + tail) }
	}
	for _, c := range []struct {
		expr string
		kws  []string
		n    int
		gen  func(int) []byte
	}{
		{`(a+)+$`, []string{"a"}, 256 << 10, as("!")},
		{`(a|aa)+$`, []string{"a"}, 1 << 20, as("!")},
		{`(?:a*)*b`, []string{"a"}, 1 << 20, as("")},
		{`(.*a){12}x`, []string{"a"}, 256 << 10, as("")},
		{`(?:a+a+)+y`, []string{"a"}, 1 << 20, as("")},
		// Keyword-led, so that the anchored and core checks run at each
		// of hundreds of thousands of keyword occurrences on one line.
		{`(?i)key[\w=]*=+(\w+)!`, []string{"key"}, 512 << 10, func(n int) []byte { return []byte(strings.Repeat("key=", n/4)) }},
		{`(?i)\bkey(?:[ \t\w.-]{0,20})[:=]\s*([a-z0-9]+)\s*;`, []string{"key"}, 1 << 20, func(n int) []byte { return []byte(strings.Repeat("key= k", n/6)) }},
	} {
		t.Run(c.expr, func(t *testing.T) {
			cfg := &Config{Rules: []Rule{{ID: "evil", Regex: c.expr, Keywords: c.kws}}}
			s, err := New(cfg, Options{ChunkSize: 64 << 10, ChunkOverlap: 4 << 10})
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("strategy %s", s.Strategy("evil"))
			scaling(t, s, "/x", c.n, c.gen)
		})
	}
}

func gitleaksDefaultConfig(t *testing.T) *Config {
	t.Helper()
	cfg, err := ParseConfig(gitleaks.Default, "gitleaks", "")
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}
