package secret

import (
	"bytes"
	"context"
	"math/rand/v2"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/seawall-dev/seawall/internal/image"
	"github.com/seawall-dev/seawall/internal/inventory"
)

// measure scans data and returns the findings, the time taken and the
// peak growth of the live heap meanwhile (sampled every 5 ms, after a GC).
func measure(t *testing.T, s *Scanner, path string, data []byte) ([]inventory.Finding, time.Duration, uint64) {
	t.Helper()
	f := image.NewFile(path, 0o644, data)
	// Collect eagerly, so that the heap in use is close to what is live.
	defer debug.SetGCPercent(debug.SetGCPercent(10))
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	done := make(chan struct{})
	peak := make(chan uint64)
	go func() {
		var m runtime.MemStats
		var top uint64
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				peak <- top
				return
			case <-tick.C:
				runtime.ReadMemStats(&m)
				if m.HeapInuse > before.HeapInuse && m.HeapInuse-before.HeapInuse > top {
					top = m.HeapInuse - before.HeapInuse
				}
			}
		}
	}()
	start := time.Now()
	out, err := s.Scan(context.Background(), f)
	took := time.Since(start)
	close(done)
	grown := <-peak
	if err != nil {
		t.Fatal(err)
	}
	return out, took, grown
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
// and with memory bounded by the chunk size, not the file size, and the
// secrets planted in it are found with line 1.
func TestHostileMinified(t *testing.T) {
	if testing.Short() {
		t.Skip("50 MB of input")
	}
	s, err := New(nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	small := minified(10 << 20)
	_, tSmall, _ := measure(t, s, "/app/bundle.min.js", small)
	big := minified(50 << 20)
	got, tBig, alloc := measure(t, s, "/app/bundle.min.js", big)
	n := 0
	for _, f := range got {
		if f.ID == "github-pat" {
			n++
			if f.Line != 1 || len(f.Snippet) > 200 {
				t.Errorf("finding on line %d with a %d-byte snippet", f.Line, len(f.Snippet))
			}
		}
	}
	if n != 3 {
		t.Errorf("found %d of the 3 planted tokens", n)
	}
	t.Logf("10 MB in %v, 50 MB in %v (%.0f MB/s), live heap grew by at most %d MB", tSmall, tBig, 50/tBig.Seconds(), alloc>>20)
	if tBig > 60*time.Second {
		t.Errorf("50 MB took %v", tBig)
	}
	if ratio := float64(tBig) / float64(tSmall); ratio > 15 {
		t.Errorf("5 times the input took %.1f times as long: not linear", ratio)
	}
	if alloc > 32<<20 {
		t.Errorf("the heap grew by %d MB for a 50 MB file: memory is not bounded by the chunk size", alloc>>20)
	}
}

// TestHostileBinary: a large binary is skipped after one look at its
// head; binary noise with NUL-free stretches is safe to scan on demand.
func TestHostileBinary(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	data := make([]byte, 20<<20)
	for i := range data {
		data[i] = byte(r.IntN(256))
	}
	s, err := New(nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	got, took, alloc := measure(t, s, "/app/blob", data)
	if len(got) != 0 || took > 2*time.Second || alloc > 8<<20 {
		t.Errorf("binary: %d findings, %v, %d MB allocated", len(got), took, alloc>>20)
	}
	sb, err := New(nil, Options{ScanBinaries: true})
	if err != nil {
		t.Fatal(err)
	}
	copy(data[10<<20:], " token="+ghp+" ")
	got, took, _ = measure(t, sb, "/app/blob", data)
	if !strings.Contains(strings.Join(ids(got), ","), "github-pat") || took > 60*time.Second {
		t.Errorf("binary with ScanBinaries: %v in %v", ids(got), took)
	}
}

// TestHostileInvalidUTF8: invalid UTF-8 around and inside the text never
// hides a secret and never crashes; matching is on bytes.
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
	// Megabytes of invalid, NUL-free bytes.
	r := rand.New(rand.NewPCG(2, 2))
	data := make([]byte, 8<<20)
	for i := range data {
		data[i] = byte(0x80 + r.IntN(128))
	}
	_, took, _ := measure(t, s, "/app/noise.txt", data)
	if took > 20*time.Second {
		t.Errorf("8 MB of invalid UTF-8 took %v", took)
	}
}

// TestHostileRegex: a user rule that backtracks catastrophically under a
// backtracking engine runs in linear time here (RE2 semantics).
func TestHostileRegex(t *testing.T) {
	for _, expr := range []string{`(a+)+$`, `(a|aa)+$`, `(?:a*)*b`, `(.*a){12}x`, `(?:a+a+)+y`} {
		cfg := &Config{Rules: []Rule{{ID: "evil", Regex: expr, Keywords: []string{"a"}}}}
		s, err := New(cfg, Options{})
		if err != nil {
			t.Fatal(err)
		}
		data := []byte(strings.Repeat("a", 1<<20) + "!")
		_, took, _ := measure(t, s, "/x", data)
		if took > 30*time.Second {
			t.Errorf("%s on 1 MB of a's: %v", expr, took)
		}
		t.Logf("%-12s %v", expr, took)
	}
}
