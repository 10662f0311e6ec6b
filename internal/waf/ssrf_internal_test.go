package waf

import (
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseIPv4Loose(t *testing.T) {
	tests := []struct {
		in   string
		want string
	}{
		{"169.254.169.254", "169.254.169.254"},
		{"2852039166", "169.254.169.254"},
		{"0xA9FEA9FE", "169.254.169.254"},
		{"0xa9.0xfe.0xa9.0xfe", "169.254.169.254"},
		{"0251.0376.0251.0376", "169.254.169.254"},
		{"0251.254.0xa9.254", "169.254.169.254"},
		{"169.254.43518", "169.254.169.254"},
		{"169.16689662", "169.254.169.254"},
		{"127.1", "127.0.0.1"},
		{"0", "0.0.0.0"},
		{"169.254.169.254.", "169.254.169.254"},
		{"256.1.1.1", ""},
		{"1.2.3.4.5", ""},
		{"0x", "0.0.0.0"},
		{"08.1.1.1", ""},
		{"4294967296", ""},
		{"a.b.c.d", ""},
		{"1..2", ""},
	}
	for _, tc := range tests {
		a, ok := parseIPv4Loose(tc.in)
		got := ""
		if ok {
			got = a.String()
		}
		if got != tc.want {
			t.Errorf("parseIPv4Loose(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestClassifyAddr(t *testing.T) {
	tests := []struct {
		in   string
		want targetClass
	}{
		{"169.254.169.254", classMetadata},
		{"fd00:ec2::254", classMetadata},
		{"::ffff:169.254.169.254", classMetadata},
		{"64:ff9b::a9fe:a9fe", classMetadata},
		{"2002:a9fe:a9fe::1", classMetadata},
		{"169.254.0.1", classLinkLocal},
		{"fe80::1%eth0", classLinkLocal},
		{"127.0.0.1", classLoopback},
		{"::1", classLoopback},
		{"0.0.0.0", classLoopback},
		{"::", classLoopback},
		{"10.0.0.1", classNone},
		{"192.168.1.1", classNone},
		{"8.8.8.8", classNone},
		{"2001:db8::1", classNone},
	}
	for _, tc := range tests {
		if got := classifyAddr(netip.MustParseAddr(tc.in)); got != tc.want {
			t.Errorf("classifyAddr(%s) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestCandidates(t *testing.T) {
	tests := []struct {
		in   string
		want []hostCandidate
	}{
		{"http://example.com/x", []hostCandidate{{"example.com", true}}},
		{"see https://a.test:8443/p and //b.test/q", []hostCandidate{{"a.test", true}, {"b.test", true}}},
		{"http://u:p@h.test/", []hostCandidate{{"h.test", true}, {"u", true}}},
		{"[::1]:80", []hostCandidate{{"::1", false}}},
		{"plain words", nil},
		{`{"u":"http://x.test/"}`, []hostCandidate{{"x.test", true}}},
	}
	for _, tc := range tests {
		got := candidates(tc.in, nil)
		if d := cmp.Diff(tc.want, got, cmp.AllowUnexported(hostCandidate{})); d != "" {
			t.Errorf("candidates(%q) (-want +got):\n%s", tc.in, d)
		}
	}
}

func FuzzSSRFCheck(f *testing.F) {
	for _, s := range []string{"http://169.254.169.254/", "0x7f.1", "[::ffff:a9fe:a9fe]", "http://a@b@c/", "//", "http:\\\\x", "１２７.0.0.1"} {
		f.Add(s)
	}
	g := newSSRFGuard(SSRFConfig{Enabled: true}, nil)
	f.Fuzz(func(t *testing.T, v string) {
		g.check(v) // must not panic, and must not resolve (ResolveDNS is off)
	})
}

func TestCleanPath(t *testing.T) {
	tests := map[string]string{
		"/":                  "/",
		"/a/../b":            "/b",
		"/api/%2e%2e/admin":  "/admin",
		"//x//y/":            "/x/y/",
		"/a%5c..%5cb":        "/b",
		"/search?q=1":        "/search",
		"/%u002e%u002e/etc/": "/etc/",
	}
	for in, want := range tests {
		if got := cleanPath(in); got != want {
			t.Errorf("cleanPath(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestAdminPathData(t *testing.T) {
	list, err := AdminPaths()
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, a := range list {
		if a.Name == "" || names[a.Name] || a.Description == "" {
			t.Errorf("entry %d: name %q must be set and unique, with a description", a.ID, a.Name)
		}
		names[a.Name] = true
		if len(a.Examples) == 0 || len(a.Benign) == 0 {
			t.Errorf("%s: needs examples and benign paths, which the tests use", a.Name)
		}
	}
}
