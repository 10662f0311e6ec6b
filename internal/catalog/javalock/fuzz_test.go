package javalock

import (
	"os"
	"path/filepath"
	"testing"
)

func addFiles(f *testing.F, pattern string) {
	f.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", pattern))
	if err != nil {
		f.Fatal(err)
	}
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
}

func FuzzParsePom(f *testing.F) {
	addFiles(f, "scalibr/pom/*")
	addFiles(f, "syft/*.xml")
	addFiles(f, "trivy/pom/pom.xml")
	f.Fuzz(func(t *testing.T, b []byte) {
		pkgs, _ := ParsePom(b)
		for _, p := range pkgs {
			if p.Namespace == "" || p.Name == "" || p.Version == "" {
				t.Fatalf("incomplete coordinate: %+v", p)
			}
		}
	})
}

func FuzzParseGradle(f *testing.F) {
	addFiles(f, "scalibr/gradle/*")
	addFiles(f, "syft/gradle.lockfile")
	addFiles(f, "trivy/gradle/gradle.lockfile")
	f.Fuzz(func(t *testing.T, b []byte) {
		pkgs, _ := ParseGradle(b, "")
		for _, p := range pkgs {
			if p.Namespace == "" || p.Name == "" || p.Version == "" {
				t.Fatalf("incomplete coordinate: %+v", p)
			}
		}
	})
}
