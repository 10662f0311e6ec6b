package rxtest

import (
	"math/rand/v2"
	"regexp"
	"regexp/syntax"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestExpressions(t *testing.T) {
	tests := []struct {
		name string
		conf string
		want []string
	}{
		{"explicit", `SecRule ARGS "@rx ^a+b$" "id:1,pass"`, []string{`^a+b$`}},
		{"negated", `SecRule ARGS "!@rx (?:x|y)" "id:1,pass"`, []string{`(?:x|y)`}},
		{"implicit", `SecRule REQUEST_HEADERS:Content-Type "^application/json" "id:1"`, []string{`^application/json`}},
		{"implicit negated", `SecRule ARGS "!abc" "id:1"`, []string{`abc`}},
		{"other operator", `SecRule ARGS "@pm a b c" "id:1"`, nil},
		{"negated other operator", `SecRule ARGS "!@eq 0" "id:1"`, nil},
		{"not a rule", `SecAction "id:1,pass,setvar:tx.x=@rx"`, nil},
		{"lower-case directive", `secrule ARGS "@rx q" "id:1"`, []string{`q`}},
		{"no actions", `SecRule ARGS "@rx q"`, []string{`q`}},
		{"escaped quote", `SecRule ARGS "@rx [\"'` + "`" + `]x" "id:1"`, []string{`["'` + "`" + `]x`}},
		{"escaped backslash before quote", `SecRule ARGS "@rx a\\" "id:1"`, []string{`a\\`}},
		{"other escapes kept", `SecRule ARGS "@rx \x5c\d\s" "id:1"`, []string{`\x5c\d\s`}},
		{"extra spaces", `SecRule ARGS   "@rx   a b  " "id:1"`, []string{`a b`}},
		{
			"continuation trims the next line",
			"SecRule ARGS \"@rx a\\\n    b\" \\\n    \"id:1,\\\n    pass\"",
			[]string{`ab`},
		},
		{
			"comments and chains",
			"# SecRule ARGS \"@rx no\"\nSecRule ARGS \"@rx one\" \"id:1,chain\"\n    SecRule ARGS \"!@rx two\" \"t:none\"\n",
			[]string{`one`, `two`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Expressions(tt.conf)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Expressions (-want +got):\n%s", diff)
			}
		})
	}
}

func TestExpressionsErrors(t *testing.T) {
	for _, conf := range []string{
		`SecRule ARGS`,
		`SecRule ARGS @rx`,
		`SecRule ARGS "@rx open`,
		"SecRule ARGS \"@rx a`\nno close",
	} {
		if _, err := Expressions(conf); err == nil {
			t.Errorf("Expressions(%q) succeeded; want an error", conf)
		}
	}
}

func TestCRSExpressions(t *testing.T) {
	exprs, err := CRSExpressions()
	if err != nil {
		t.Fatal(err)
	}
	if len(exprs) < 250 {
		t.Fatalf("%d expressions; the CRS has over 300 @rx rules", len(exprs))
	}
	for _, e := range exprs {
		if e == "" {
			t.Error("empty expression")
		}
	}
}

func TestCRSPayloads(t *testing.T) {
	p, err := CRSPayloads()
	if err != nil {
		t.Fatal(err)
	}
	if len(p) < 5000 {
		t.Fatalf("%d payloads; the CRS regression tests hold thousands", len(p))
	}
	// 942100-1 sends "var=1234 OR 1=1": its value must be there, decoded.
	found := false
	for _, s := range p {
		found = found || s == "1234 OR 1=1"
	}
	if !found {
		t.Error(`payload "1234 OR 1=1" (942100-1) missing`)
	}
}

// TestGenerateMatches checks Generate on expressions it must
// handle: most outputs must match, and the case-fold and class choices
// must reach the non-ASCII partners.
func TestGenerateMatches(t *testing.T) {
	tests := []struct {
		expr     string
		mustSee  string // a substring some output must contain
		minRatio float64
	}{
		{`(?i)kiss`, "\u212a", 0.99},
		{`(?i)kiss`, "\u017f", 0.99},
		{`[a\x{212A}-\x{212B}]+x`, "\u212b", 0.99},
		{`(?s)a.b`, "\n", 0.99},
		{`(?s)a.b`, "\xff", 0.99},
		{`\x{FFFD}`, "\xff", 0.99},
		{`(?:ab|cd){2,4}e?`, "cd", 0.99},
		{`^\w+@\w+\.com$`, "@", 0.99},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			re := regexp.MustCompile(tt.expr)
			tree, err := syntax.Parse(tt.expr, syntax.Perl)
			if err != nil {
				t.Fatal(err)
			}
			tree = tree.Simplify()
			rng := rand.New(rand.NewPCG(7, 7))
			const n = 500
			ok, seen := 0, false
			for range n {
				s := Generate(tree, rng)
				if re.MatchString(s) {
					ok++
				}
				seen = seen || strings.Contains(s, tt.mustSee)
			}
			if r := float64(ok) / n; r < tt.minRatio {
				t.Errorf("only %.2f of generated strings match", r)
			}
			if !seen {
				t.Errorf("no generated string contains %q", tt.mustSee)
			}
		})
	}
}

func TestMutateAndWrapKeepMatches(t *testing.T) {
	re := regexp.MustCompile(`abc`)
	rng := rand.New(rand.NewPCG(3, 4))
	for range 200 {
		if s := Wrap("abc", rng); !re.MatchString(s) {
			t.Fatalf("Wrap(abc) = %q no longer contains abc", s)
		}
	}
	seen := map[string]bool{}
	for range 200 {
		seen[Mutate("kiss", rng)] = true
	}
	if !seen["\u212ai\u017f\u017f"] {
		t.Error("Mutate never swapped k and s for KELVIN SIGN and LONG S")
	}
	if len(seen) < 10 {
		t.Errorf("Mutate produced only %d distinct strings", len(seen))
	}
}
