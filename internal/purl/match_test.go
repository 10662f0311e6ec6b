package purl

import "testing"

func TestMatch(t *testing.T) {
	const deb = "pkg:deb/debian/libssl3@3.0.11-1~deb12u2?arch=amd64&distro=debian-12&upstream=openssl"
	tests := []struct {
		name            string
		pattern, target string
		want            bool
	}{
		{"identical", deb, deb, true},
		{"pattern without qualifiers", "pkg:deb/debian/libssl3@3.0.11-1~deb12u2", deb, true},
		{"pattern without version", "pkg:deb/debian/libssl3", deb, true},
		{"qualifier subset", "pkg:deb/debian/libssl3?arch=amd64", deb, true},
		{"qualifier differs", "pkg:deb/debian/libssl3?arch=arm64", deb, false},
		{"qualifier missing from target", "pkg:deb/debian/libssl3?foo=bar", deb, false},
		{"version differs", "pkg:deb/debian/libssl3@3.0.13-1~deb12u1", deb, false},
		{"name differs", "pkg:deb/debian/libssl-dev", deb, false},
		{"namespace differs", "pkg:deb/ubuntu/libssl3", deb, false},
		{"type differs", "pkg:rpm/debian/libssl3", deb, false},
		{"deb name case", "pkg:deb/Debian/LibSSL3", deb, true},
		{"pypi normalisation", "pkg:pypi/Django_Rest.Framework@3.15.0", "pkg:pypi/django-rest-framework@3.15.0", true},
		{"maven", "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1", "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1?type=jar", true},
		{"npm scope encoded", "pkg:npm/%40babel/core@7.24.0", "pkg:npm/%40babel/core@7.24.0", true},
		{"subpath", "pkg:golang/golang.org/x/text#language", "pkg:golang/golang.org/x/text@v0.3.0#language", true},
		{"subpath differs", "pkg:golang/golang.org/x/text#unicode", "pkg:golang/golang.org/x/text@v0.3.0#language", false},
		{"pattern not a purl", "libssl3", deb, false},
		{"target not a purl", "pkg:deb/debian/libssl3", "", false},
		{"oci digest", "pkg:oci/app@sha256%3Aabc", "pkg:oci/app@sha256%3Aabc?repository_url=registry.example%2Fteam%2Fapp&tag=1.2", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Match(tt.pattern, tt.target); got != tt.want {
				t.Errorf("Match(%q, %q) = %v, want %v", tt.pattern, tt.target, got, tt.want)
			}
		})
	}
}
