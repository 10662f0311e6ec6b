package console

import (
	"strings"
	"testing"
)

func TestSafeNext(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"empty", "", "/projects"},
		{"local path", "/projects/team?after=x", "/projects/team?after=x"},
		{"protocol-relative", "//evil.example/x", "/projects"},
		{"absolute URL", "https://evil.example/", "/projects"},
		{"backslash", "/\\evil.example", "/projects"},
		{"header injection", "/x\r\nSet-Cookie: a=b", "/projects"},
		{"relative", "projects", "/projects"},
		{"the login page", "/login", "/projects"},
		{"javascript", "javascript:alert(1)", "/projects"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := safeNext(tc.in); got != tc.want {
				t.Errorf("safeNext(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

// FuzzSafeNext checks that no "next" value sends a browser off the server.
func FuzzSafeNext(f *testing.F) {
	for _, s := range []string{"", "/", "//x", "/\\x", "/projects", "https://x", "/%2F%2Fx", "/\t/x", " //x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := safeNext(s)
		if !strings.HasPrefix(got, "/") || strings.HasPrefix(got, "//") || strings.ContainsAny(got, "\\\r\n") {
			t.Fatalf("safeNext(%q) = %q: not a path on this server", s, got)
		}
	})
}
