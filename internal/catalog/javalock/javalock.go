// Package javalock reads the Maven and Gradle dependencies that a Java
// source tree declares: pom.xml (direct dependencies, with ${property}
// interpolation from the same file) and gradle.lockfile.
package javalock

import (
	"context"
	"io/fs"
	"path"
	"strings"

	"github.com/seawall-dev/seawall/internal/catalog"
	"github.com/seawall-dev/seawall/internal/image"
	"github.com/seawall-dev/seawall/internal/inventory"
)

// maxFile bounds a pom.xml or lockfile; real ones are well under 1 MB.
const maxFile = 16 << 20

// Cataloger reads pom.xml and gradle.lockfile.
type Cataloger struct{}

// New returns a Java lockfile cataloger.
func New() *Cataloger { return &Cataloger{} }

func (*Cataloger) Name() string { return "java-lock" }

// Declared reports that pom.xml and gradle.lockfile declare dependencies
// rather than record installed ones.
func (*Cataloger) Declared() bool { return true }

func (*Cataloger) Wants(p string, mode fs.FileMode) bool {
	if !mode.IsRegular() {
		return false
	}
	switch path.Base(p) {
	case "pom.xml", "gradle.lockfile":
		return true
	}
	return isLegacyGradleLock(p)
}

// isLegacyGradleLock matches Gradle 4.8–6's per-configuration lockfiles,
// gradle/dependency-locks/<configuration>.lockfile.
func isLegacyGradleLock(p string) bool {
	dir, file := path.Split(p)
	return strings.HasSuffix(dir, "/gradle/dependency-locks/") && strings.HasSuffix(file, ".lockfile") && len(file) > len(".lockfile")
}

func (*Cataloger) Catalog(ctx context.Context, f *image.File) ([]inventory.Package, error) {
	b, err := f.ReadAll(maxFile)
	if err != nil {
		return nil, err
	}
	if path.Base(f.Path) == "pom.xml" {
		return ParsePom(b)
	}
	conf := ""
	if isLegacyGradleLock(f.Path) {
		conf = strings.TrimSuffix(path.Base(f.Path), ".lockfile")
	}
	return ParseGradle(b, conf)
}

func mavenPkg(group, artifact, version string) inventory.Package {
	return inventory.Package{Type: inventory.TypeMaven, Namespace: group, Name: artifact, Version: version}
}

var _ catalog.Cataloger = (*Cataloger)(nil)
