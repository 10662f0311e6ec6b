package java

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// seeds adds every file under testdata whose name ends in one of exts.
func seeds(f *testing.F, exts ...string) {
	f.Helper()
	err := filepath.WalkDir("testdata", func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.Contains(p, string(filepath.Separator)+"fuzz"+string(filepath.Separator)) {
			return err
		}
		for _, e := range exts {
			if strings.HasSuffix(p, e) {
				b, err := os.ReadFile(p)
				if err != nil {
					return err
				}
				f.Add(b)
			}
		}
		return nil
	})
	if err != nil {
		f.Fatal(err)
	}
}

func FuzzRead(f *testing.F) {
	seeds(f, ".jar", "not_jar")
	f.Add(mkzip(f,
		entry{name: "META-INF/MANIFEST.MF", data: []byte("Manifest-Version: 1.0\r\nImplementation-Title: x\r\nImplementation-Version: 1.0\r\n")},
		entry{name: "META-INF/maven/g/a/pom.properties", data: []byte("groupId=g\nartifactId=a\nversion=1\n")},
		entry{name: "lib/in.jar", data: mkzip(f, entry{name: "pom.properties", data: []byte("groupId=g\nartifactId=b\nversion=2\n")}), store: true},
	))
	lim := defaultLimits
	lim.maxNested = 1 << 20
	lim.maxInflate = 4 << 20
	f.Fuzz(func(t *testing.T, b []byte) {
		pkgs, _ := read(context.Background(), bytes.NewReader(b), int64(len(b)), "/app/x-1.0.jar", lim)
		for _, p := range pkgs {
			if p.Name == "" || p.Version == "" {
				t.Fatalf("package without name or version: %+v", p)
			}
		}
	})
}

func FuzzParseManifest(f *testing.F) {
	seeds(f, "MANIFEST.MF", "continuation", "extra-empty-lines", "extra-info", "leading-space", "small", "standard-info", "version-with-date")
	f.Fuzz(func(t *testing.T, b []byte) {
		m := parseManifest(b)
		ownIdentity("x.jar", m)
		m.licenses()
	})
}

func FuzzParseProperties(f *testing.F) {
	seeds(f, ".properties")
	f.Fuzz(func(t *testing.T, b []byte) {
		parsePomProps(b)
	})
}

func FuzzSplitFilename(f *testing.F) {
	for _, s := range []string{"commons-io-2.11.0.jar", "log4j-1.2-api-2.17.1.jar", "guava-31.1-jre.jar", "a-1-b-2-c-3.war"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		name, version := splitFilename(s)
		if version != "" && name == "" {
			t.Fatalf("version %q without name", version)
		}
	})
}
