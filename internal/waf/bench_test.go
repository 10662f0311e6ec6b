package waf_test

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/seawall-dev/seawall/internal/waf"
)

// redosWAF is the WAF at paranoia 1, blocking, with the ReDoS probe rules
// after the CRS, in front of a handler that drains the body: the cost
// measured is Seawall's alone.
func redosWAF(tb testing.TB) http.Handler {
	tb.Helper()
	dir := tb.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "redos-after-crs.conf"), []byte(redosRules), 0o644); err != nil {
		tb.Fatal(err)
	}
	cfg := waf.Default()
	cfg.Upstream = "http://127.0.0.1:9"
	cfg.RateLimit.Enabled = false
	cfg.Watch = false
	cfg.RulesDir = dir
	w, err := waf.New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), waf.WithStdout(io.Discard),
		waf.WithNext(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.Copy(io.Discard, r.Body)
			w.Header().Set("Content-Type", "text/plain")
			io.WriteString(w, "ok\n")
		})))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { w.Close() })
	return w
}

func serveOnce(b *testing.B, h http.Handler, method, target, ctype, body string, want int) {
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	req.Header.Set("User-Agent", "Mozilla/5.0 bench")
	req.Header.Set("Accept", "*/*")
	req.Host = "shop.example.com"
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != want {
		b.Fatalf("%s %s: status %d, want %d", method, target, rec.Code, want)
	}
}

var words = strings.Fields("apple banana cherry grape lemon mango orange peach pear plum kiwi melon berry olive walnut pepper")

// json10k is a typical 10 KB API document: about 100 fields, mostly text.
func json10k() string {
	var items []map[string]any
	for i := 0; ; i++ {
		var d []string
		for k := range 30 {
			d = append(d, words[(i*31+k*7)%len(words)])
		}
		items = append(items, map[string]any{"sku": fmt.Sprintf("SKU-%04d", i), "qty": i%5 + 1, "description": strings.Join(d, " ")})
		b, _ := json.Marshal(map[string]any{"order": "A-1001", "items": items})
		if len(b) >= 10<<10 {
			return string(b)
		}
	}
}

// json10kFields is the same size as 1,000 short fields.
func json10kFields() string {
	var items []map[string]any
	for i := 0; ; i++ {
		items = append(items, map[string]any{"id": i, "name": words[i%len(words)] + " " + words[(i*7)%len(words)], "price": float64(i) * 1.25})
		b, _ := json.Marshal(map[string]any{"items": items})
		if len(b) >= 10<<10 {
			return string(b)
		}
	}
}

func multipart(size int) (string, string) {
	const boundary = "----seawallbench"
	line := "The quick brown fox jumps over the lazy dog 0123456789\n"
	data := strings.Repeat(line, size/len(line)+1)[:size]
	return "multipart/form-data; boundary=" + boundary,
		"--" + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"data.txt\"\r\nContent-Type: text/plain\r\n\r\n" + data + "\r\n--" + boundary + "--\r\n"
}

// BenchmarkServe is the cost of one request through the WAF for the
// workloads in docs/BENCHMARKS.md.
func BenchmarkServe(b *testing.B) {
	h := redosWAF(b)
	j := json10k()
	b.Run("get", func(b *testing.B) {
		for b.Loop() {
			serveOnce(b, h, "GET", "/products?id=42&sort=price", "", "", 200)
		}
	})
	b.Run("json10k", func(b *testing.B) {
		b.SetBytes(int64(len(j)))
		for b.Loop() {
			serveOnce(b, h, "POST", "/api/orders", "application/json", j, 200)
		}
	})
	jf := json10kFields()
	b.Run("json10k-1000-fields", func(b *testing.B) {
		b.SetBytes(int64(len(jf)))
		for b.Loop() {
			serveOnce(b, h, "POST", "/api/items", "application/json", jf, 200)
		}
	})
	for _, size := range []int{16 << 10, 64 << 10, 256 << 10, 1 << 20, 4 << 20} {
		ct, body := multipart(size)
		b.Run(fmt.Sprintf("upload%dk", size>>10), func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				serveOnce(b, h, "POST", "/upload", ct, body, 200)
			}
		})
	}
}

// BenchmarkReDoS sends the inputs of TestReDoSLinear at lengths where a
// backtracking engine takes exponential (rule 10101) or polynomial (rule
// 10102) time. On RE2 the time grows with the length of the input only,
// and rule 10101 still refuses the request.
func BenchmarkReDoS(b *testing.B) {
	h := redosWAF(b)
	for _, n := range []int{16, 24, 32, 1000, 100000} {
		v := strings.Repeat("a", n) + "!"
		b.Run(fmt.Sprintf("nested-alternation/%d", len(v)), func(b *testing.B) {
			for b.Loop() {
				serveOnce(b, h, "POST", "/r", "application/x-www-form-urlencoded", "redos="+v, http.StatusForbidden)
			}
		})
		w := strings.Repeat("ab+", n/3) + "!"
		b.Run(fmt.Sprintf("nested-quantifier/%d", len(w)), func(b *testing.B) {
			for b.Loop() {
				serveOnce(b, h, "POST", "/r", "application/x-www-form-urlencoded", "redos2="+w, http.StatusOK)
			}
		})
	}
}
