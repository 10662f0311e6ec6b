package version

import "testing"

// BenchmarkCompare measures each scheme on its fixture's pairs: "strings"
// is Compare(ecosystem, a, b), which parses both every time; "parsed" is
// Version.Compare on versions parsed beforehand.
func BenchmarkCompare(b *testing.B) {
	benches := []struct{ ecosystem, file string }{
		{"Debian", "debian-versions-generated.txt"},
		{"Alpine", "alpine-versions-generated.txt"},
		{"Red Hat", "redhat-versions.txt"},
		{"npm", "semver-versions.txt"},
		{"Go", ""},
		{"Pub", "pub-versions.txt"},
		{"PyPI", "pypi-versions-generated.txt"},
		{"Maven", "maven-versions-generated.txt"},
		{"RubyGems", "rubygems-versions-generated.txt"},
		{"NuGet", "nuget-versions.txt"},
		{"Packagist", "packagist-versions-generated.txt"},
		{"CRAN", "cran-versions-generated.txt"},
		{"Hackage", "hackage-versions.txt"},
	}
	for _, bb := range benches {
		var pairs [][2]string
		if bb.file == "" {
			for i := 1; i < len(goVersions); i++ {
				pairs = append(pairs, [2]string{goVersions[i-1], goVersions[i]})
			}
		} else {
			for _, l := range readFixture(b, bb.file) {
				pairs = append(pairs, [2]string{l.a, l.b})
			}
		}
		parsed := make([][2]Version, len(pairs))
		for i, p := range pairs {
			va, err := Parse(bb.ecosystem, p[0])
			if err != nil {
				b.Fatal(err)
			}
			vb, err := Parse(bb.ecosystem, p[1])
			if err != nil {
				b.Fatal(err)
			}
			parsed[i] = [2]Version{va, vb}
		}
		b.Run(bb.ecosystem+"/strings", func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				p := pairs[i%len(pairs)]
				if _, err := Compare(bb.ecosystem, p[0], p[1]); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
		b.Run(bb.ecosystem+"/parsed", func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				p := parsed[i%len(parsed)]
				p[0].Compare(p[1])
				i++
			}
		})
	}
}
