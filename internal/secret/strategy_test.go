package secret

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/seawall-dev/seawall/internal/inventory"
	"github.com/seawall-dev/seawall/internal/secret/gitleaks"
)

func TestPlans(t *testing.T) {
	tests := []struct {
		re   string
		kws  []string
		want plan
		core bool
	}{
		{`ghp_[0-9a-zA-Z]{36}`, []string{"ghp_"}, plan{strategy: full}, false}, // literal prefix: Go's regexp is fastest
		{`\b(?:ghu|ghs)_[0-9a-zA-Z]{36}`, []string{"ghu_", "ghs_"}, plan{strategy: anchored, maxLen: 40}, false},
		{`(?i)\bkey=([a-z]{8})`, []string{"key"}, plan{strategy: anchored, maxLen: 3*4 + 4 + 8*3}, false},
		{`(?i)\bkey=\s?([a-z]{8})`, []string{"key"}, plan{strategy: anchored, maxLen: 3*4 + 4 + 1 + 8*3, maxNL: 1}, false},
		{`(?i)\bkey=([a-z]+)`, []string{"key"}, plan{strategy: windowed, maxNL: 0}, true},
		{`(?i)[\w.-]{0,50}?(?:adafruit)(?:[ \t\w.-]{0,20})[\s'"]{0,3}=([a-z0-9]{32})`, []string{"adafruit"}, plan{strategy: windowed, maxNL: 3}, true},
		{`(?i)(?:api)[_-]?(?:key)\s*=\s*(\w+)`, []string{"api_key", "api-key", "apikey"}, plan{strategy: windowed, maxNL: -1 + 0}, true},
		{`x(?:key)?=(\w+)`, []string{"key"}, plan{strategy: full}, false}, // a match need not hold the keyword
		{`[a-z]+`, nil, plan{strategy: full}, false},
	}
	for _, tt := range tests {
		got := planFor(tt.re, tt.kws)
		if tt.want.strategy == windowed && tt.want.maxNL < 0 {
			tt.want = plan{strategy: full}
		}
		core := got.core
		got.core, got.coreLen, got.rest = "", 0, ""
		if got != tt.want {
			t.Errorf("planFor(%q, %q) = %+v, want %+v", tt.re, tt.kws, got, tt.want)
		}
		if (core != "") != tt.core {
			t.Errorf("planFor(%q, %q): core %q, want one: %v", tt.re, tt.kws, core, tt.core)
		}
	}
}

// TestCore: the core of an expression is a necessary condition of a
// match, tried anchored at a keyword, and bounded in length.
func TestCore(t *testing.T) {
	tests := []struct {
		re      string
		kws     []string
		want    string // the core, as an expression that accepts the same
		wantLen int
	}{
		{`(?i)\bkey=([a-z]+)`, []string{"key"}, `(?i)\bkey=`, 4 * 4}, // (?i) literals count 4 bytes a rune
		{`(?i)[\w.-]{0,50}?(?:tok)[ \t]{0,2}[:=]"?([a-z0-9]{4,})`, []string{"tok"}, `(?i)tok[ \t]{0,2}[:=]"?`, 3*4 + 2 + 1 + 4},
		{`x(?:key)?=(\w+)`, []string{"key"}, ``, 0},       // a match need not hold the keyword
		{`(?i)key(\w+)`, []string{"key"}, ``, 0},          // the core would be the keyword alone
		{`(?i)(?:a|key)=(\w{3})`, []string{"key"}, ``, 0}, // not every match starts with a keyword
	}
	for _, tt := range tests {
		p := planFor(tt.re, tt.kws)
		if (p.core == "") != (tt.want == "") || p.coreLen != tt.wantLen {
			t.Errorf("planFor(%q): core %q (%d bytes), want %q (%d bytes)", tt.re, p.core, p.coreLen, tt.want, tt.wantLen)
			continue
		}
		if p.core == "" {
			continue
		}
		got, want := regexp.MustCompile(`^(?:`+p.core+`)$`), regexp.MustCompile(`^(?:`+tt.want+`)$`)
		for _, s := range []string{"key=", "KEY=", "tok:", "TOK \t=\"", "tok  =", "tok   =", "key", "tok=x", "monkey="} {
			if got.MatchString(s) != want.MatchString(s) {
				t.Errorf("core %q of %q on %q: %v, want %v", p.core, tt.re, s, got.MatchString(s), want.MatchString(s))
			}
		}
	}
}

// corpus builds text where keywords abound in and out of secrets:
// assignments, near misses, long lines, several lines per match.
func corpus(seed uint64, n int) string {
	r := rand.New(rand.NewPCG(seed, 11))
	words := []string{"key", "token", "secret", "password", "api", "auth", "access", "AKIA", "ghp_", "aws_secret", "://",
		"-----BEGIN RSA PRIVATE KEY-----", "eyJ", "postgres", "client", "=", ": ", " = \"", "\"", "'", "\n", "\n\n", " ", "\t",
		"_", "-", ".", "x", "Q~", "sk_live_", "xoxb-", "glpat-", "SG.", "hvs.", "@", ":"}
	var b strings.Builder
	for b.Len() < n {
		switch r.IntN(6) {
		case 0:
			b.WriteString(fake(r.Uint64(), alnum, 8+r.IntN(50)))
		case 1:
			b.WriteString(fake(r.Uint64(), b64, 20+r.IntN(70)))
		default:
			b.WriteString(words[r.IntN(len(words))])
		}
	}
	return b.String()
}

type key struct {
	ID, Snippet string
	Line        int
}

func keys(fs []inventory.Finding) []key {
	var out []key
	for _, f := range fs {
		out = append(out, key{f.ID, f.Snippet, f.Line})
	}
	sort.Slice(out, func(i, j int) bool { return fmt.Sprint(out[i]) < fmt.Sprint(out[j]) })
	return out
}

// TestStrategiesExact: the anchored and windowed strategies find exactly
// what FindAll over the whole text finds, for Seawall's rules and for
// gitleaks' 222, on random text dense with keywords and on real corpora.
func TestStrategiesExact(t *testing.T) {
	glCfg, err := ParseConfig(gitleaks.Default, "gitleaks", "")
	if err != nil {
		t.Fatal(err)
	}
	texts := map[string]string{}
	for i := uint64(0); i < 12; i++ {
		texts[fmt.Sprintf("random-%d", i)] = corpus(i, 20000)
	}
	for i := uint64(12); i < 15; i++ { // one long line, as in minified code
		texts[fmt.Sprintf("random-line-%d", i)] = strings.ReplaceAll(corpus(i, 40000), "\n", " ")
	}
	if root := filepath.Join("..", "..", "..", "shared", "data", "secrets"); dirExists(root) {
		filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
			if err == nil && d.Type().IsRegular() {
				if b, err := os.ReadFile(p); err == nil && len(b) < 256<<10 {
					texts[p] = string(b)
				}
			}
			return nil
		})
	}
	for _, c := range []struct {
		name string
		cfg  *Config
	}{{"seawall", nil}, {"gitleaks", glCfg}} {
		fast, err := New(c.cfg, Options{ScanBinaries: true})
		if err != nil {
			t.Fatal(err)
		}
		ref, err := New(c.cfg, Options{ScanBinaries: true})
		if err != nil {
			t.Fatal(err)
		}
		ref.forceFull = true
		n := 0
		for name, text := range texts {
			got := keys(scanString(t, fast, "/x.txt", text))
			want := keys(scanString(t, ref, "/x.txt", text))
			n += len(want)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("%s rules on %s (-full +planned):\n%s", c.name, name, diff)
			}
		}
		t.Logf("%s: %d texts, %d findings agree", c.name, len(texts), n)
	}
}

func dirExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}
