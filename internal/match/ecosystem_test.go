package match

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/seawall-dev/seawall/internal/inventory"
)

func TestTargetFor(t *testing.T) {
	ecos := newEcosystems([]string{
		"Debian:11", "Debian:12", "Ubuntu:22.04:LTS", "Ubuntu:Pro:22.04:LTS", "Ubuntu:24.04:LTS", "Alpine:v3.19",
		"AlmaLinux:8", "AlmaLinux:9", "Rocky Linux:9", "Red Hat:enterprise_linux:9::appstream", "Red Hat:enterprise_linux:9::baseos",
		"Red Hat:rhel_eus:9.2::baseos", "openSUSE:Leap 15.5", "SUSE:Linux Enterprise Server 15 SP5", "Azure Linux:3.0",
		"Go", "npm", "PyPI", "Maven", "crates.io", "RubyGems", "Packagist", "NuGet",
	})
	deb := func(name, version, src, srcVer string) inventory.Package {
		return inventory.Package{Type: inventory.TypeDeb, Name: name, Version: version, SourceName: src, SourceVersion: srcVer}
	}
	debian12 := &inventory.Distro{ID: "debian", VersionID: "12"}
	tests := []struct {
		name   string
		pkg    inventory.Package
		distro *inventory.Distro
		pro    bool
		want   target
		not    *uncovered
	}{
		{"Debian binNMU uses the source", deb("bash", "5.2.15-2+b13", "bash", "5.2.15-2"), debian12, false,
			target{[]string{"Debian:12"}, "bash", "5.2.15-2", "Debian:12"}, nil},
		{"Debian binary of another source", deb("libc6", "2.36-9+deb12u7", "glibc", "2.36-9+deb12u7"), debian12, false,
			target{[]string{"Debian:12"}, "glibc", "2.36-9+deb12u7", "Debian:12"}, nil},
		{"Debian point release and codename", deb("a", "1", "a", "1"), &inventory.Distro{ID: "debian", Codename: "bullseye"}, false,
			target{[]string{"Debian:11"}, "a", "1", "Debian:11"}, nil},
		{"Debian release the database lacks", deb("a", "1", "a", "1"), &inventory.Distro{ID: "debian", VersionID: "13"}, false,
			target{}, &uncovered{"Debian:13", "the vulnerability database has no Debian:13 advisories"}},
		{"Ubuntu LTS, no ESM", deb("a", "1", "src", "1"), &inventory.Distro{ID: "ubuntu", VersionID: "22.04"}, false,
			target{[]string{"Ubuntu:22.04:LTS"}, "src", "1", "Ubuntu:22.04:LTS"}, nil},
		{"Ubuntu with ESM packages", deb("a", "1", "src", "1"), &inventory.Distro{ID: "ubuntu", VersionID: "22.04"}, true,
			target{[]string{"Ubuntu:22.04:LTS", "Ubuntu:Pro:22.04:LTS"}, "src", "1", "Ubuntu:22.04:LTS"}, nil},
		{"Alpine origin", inventory.Package{Type: inventory.TypeAPK, Name: "libcrypto3", Version: "3.1.4-r5", SourceName: "openssl"},
			&inventory.Distro{ID: "alpine", VersionID: "3.19.1"}, false,
			target{[]string{"Alpine:v3.19"}, "openssl", "3.1.4-r5", "Alpine:v3.19"}, nil},
		{"AlmaLinux with epoch", inventory.Package{Type: inventory.TypeRPM, Name: "openssl-libs", Version: "1.1.1k-4.el8", Epoch: 1, SourceName: "openssl"},
			&inventory.Distro{ID: "almalinux", VersionID: "8.5"}, false,
			target{[]string{"AlmaLinux:8"}, "openssl-libs", "1:1.1.1k-4.el8", "AlmaLinux:8"}, nil},
		{"Rocky", inventory.Package{Type: inventory.TypeRPM, Name: "bash", Version: "5.1.8-6.el9"}, &inventory.Distro{ID: "rocky", VersionID: "9.3"}, false,
			target{[]string{"Rocky Linux:9"}, "bash", "5.1.8-6.el9", "Rocky Linux:9"}, nil},
		{"RHEL main streams", inventory.Package{Type: inventory.TypeRPM, Name: "bash", Version: "5.1.8-6.el9"}, &inventory.Distro{ID: "rhel", VersionID: "9.2"}, false,
			target{[]string{"Red Hat:enterprise_linux:9::appstream", "Red Hat:enterprise_linux:9::baseos"}, "bash", "5.1.8-6.el9", "Red Hat:enterprise_linux:9::appstream"}, nil},
		{"openSUSE Leap", inventory.Package{Type: inventory.TypeRPM, Name: "bash-sh", Version: "4.4-150400.25.22"},
			&inventory.Distro{ID: "opensuse-leap", VersionID: "15.5", PrettyName: "openSUSE Leap 15.5"}, false,
			target{[]string{"openSUSE:Leap 15.5"}, "bash-sh", "4.4-150400.25.22", "openSUSE:Leap 15.5"}, nil},
		{"SLES", inventory.Package{Type: inventory.TypeRPM, Name: "bash", Version: "4.4-1"},
			&inventory.Distro{ID: "sles", VersionID: "15.5", PrettyName: "SUSE Linux Enterprise Server 15 SP5"}, false,
			target{[]string{"SUSE:Linux Enterprise Server 15 SP5"}, "bash", "4.4-1", "SUSE:Linux Enterprise Server 15 SP5"}, nil},
		{"Azure Linux names the source RPM", inventory.Package{Type: inventory.TypeRPM, Name: "libcurl", Version: "8.8.0-1.azl3", SourceName: "curl"},
			&inventory.Distro{ID: "azurelinux", VersionID: "3.0"}, false,
			target{[]string{"Azure Linux:3.0"}, "curl", "8.8.0-1.azl3", "Azure Linux:3.0"}, nil},
		{"unknown distro", deb("a", "1", "a", "1"), &inventory.Distro{ID: "raspbian", VersionID: "12"}, false,
			target{}, &uncovered{"deb (raspbian)", `no OSV ecosystem is known for distro "raspbian"`}},
		{"no distro", deb("a", "1", "a", "1"), nil, false,
			target{}, &uncovered{"deb", "no distro was detected (no os-release), so OS packages cannot be matched"}},
		{"deb packages on Alpine", deb("a", "1", "a", "1"), &inventory.Distro{ID: "alpine", VersionID: "3.19.0"}, false,
			target{}, &uncovered{"Alpine:v3.19", "deb packages are not covered by alpine advisories"}},
		{"Go module drops v", inventory.Package{Type: inventory.TypeGolang, Name: "golang.org/x/net", Version: "v0.17.0"}, nil, false,
			target{[]string{"Go"}, "golang.org/x/net", "0.17.0", "Go"}, nil},
		{"Go toolchain", inventory.Package{Type: inventory.TypeGolang, Name: "stdlib", Version: "1.22.1"}, nil, false,
			target{[]string{"Go"}, "stdlib", "1.22.1", "Go"}, nil},
		{"npm scope", inventory.Package{Type: inventory.TypeNPM, Namespace: "@babel", Name: "core", Version: "7.0.0"}, nil, false,
			target{[]string{"npm"}, "@babel/core", "7.0.0", "npm"}, nil},
		{"Maven coordinates", inventory.Package{Type: inventory.TypeMaven, Namespace: "org.apache.logging.log4j", Name: "log4j-core", Version: "2.14.1"}, nil, false,
			target{[]string{"Maven"}, "org.apache.logging.log4j:log4j-core", "2.14.1", "Maven"}, nil},
		{"Maven without group", inventory.Package{Type: inventory.TypeMaven, Name: "x", Version: "1"}, nil, false,
			target{}, &uncovered{"Maven", "Maven artifact without a groupId"}},
		{"Composer vendor", inventory.Package{Type: inventory.TypeComposer, Namespace: "guzzlehttp", Name: "guzzle", Version: "7.4.0"}, nil, false,
			target{[]string{"Packagist"}, "guzzlehttp/guzzle", "7.4.0", "Packagist"}, nil},
		{"crates.io crate", inventory.Package{Type: inventory.TypeCargo, Name: "time", Version: "0.1.43"}, nil, false,
			target{[]string{"crates.io"}, "time", "0.1.43", "crates.io"}, nil},
		{"local crate", inventory.Package{Type: inventory.TypeCargo, Name: "mine", Version: "0.1.0", Metadata: map[string]string{"source": "local"}}, nil, false,
			target{}, &uncovered{"crates.io", "crate not from crates.io (a local, git or other-registry crate); crates.io advisories do not apply"}},
		{"git crate", inventory.Package{Type: inventory.TypeCargo, Name: "x", Version: "0.1.0", Metadata: map[string]string{"source": "git+https://example.com/x#abc"}}, nil, false,
			target{}, &uncovered{"crates.io", "crate not from crates.io (a local, git or other-registry crate); crates.io advisories do not apply"}},
		{"gem", inventory.Package{Type: inventory.TypeGem, Name: "nokogiri", Version: "1.13.3"}, nil, false,
			target{[]string{"RubyGems"}, "nokogiri", "1.13.3", "RubyGems"}, nil},
		{"NuGet", inventory.Package{Type: inventory.TypeNuGet, Name: "Newtonsoft.Json", Version: "12.0.1"}, nil, false,
			target{[]string{"NuGet"}, "Newtonsoft.Json", "12.0.1", "NuGet"}, nil},
		{"unknown type", inventory.Package{Type: "cocoapods", Name: "x", Version: "1"}, nil, false,
			target{}, &uncovered{"cocoapods", "no OSV ecosystem is known for this package type"}},
		{"no version ordering", inventory.Package{Type: inventory.TypeConan, Name: "zlib", Version: "1.2.12"}, nil, false,
			target{}, &uncovered{"ConanCenter", "Seawall has no version ordering for ConanCenter yet, so its advisories cannot be evaluated"}},
		{"ecosystem absent from the database", inventory.Package{Type: inventory.TypeSwift, Name: "github.com/apple/swift-nio", Version: "2.41.0"}, nil, false,
			target{}, &uncovered{"SwiftURL", "the vulnerability database has no SwiftURL advisories"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, not := targetFor(&tt.pkg, tt.distro, ecos, tt.pro)
			if diff := cmp.Diff(tt.not, not, cmp.AllowUnexported(uncovered{})); diff != "" {
				t.Fatalf("uncovered (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(target{})); diff != "" {
				t.Errorf("target (-want +got):\n%s", diff)
			}
		})
	}
	// A language ecosystem the database lacks.
	_, not := targetFor(&inventory.Package{Type: inventory.TypePyPI, Name: "x", Version: "1"}, nil, newEcosystems([]string{"npm"}), false)
	if not == nil || not.label != "PyPI" {
		t.Errorf("PyPI without PyPI advisories: %+v", not)
	}
}

func TestSameName(t *testing.T) {
	tests := []struct {
		eco, a, b string
		want      bool
	}{
		{"PyPI", "Django", "django", true},
		{"PyPI", "zope.interface", "zope-interface", true},
		{"PyPI", "a__b", "a-b", true},
		{"npm", "JSONStream", "jsonstream", false},
		{"NuGet", "Newtonsoft.Json", "newtonsoft.json", true},
		{"crates.io", "serde_json", "serde-json", true},
		{"Go", "github.com/Sirupsen/logrus", "github.com/sirupsen/logrus", false},
		{"Debian:12", "glibc", "glibc", true},
	}
	for _, tt := range tests {
		if got := sameName(tt.eco, tt.a, tt.b); got != tt.want {
			t.Errorf("sameName(%s, %q, %q) = %v, want %v", tt.eco, tt.a, tt.b, got, tt.want)
		}
	}
}
