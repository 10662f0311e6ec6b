// Package dotnet reads the NuGet packages a .NET application was built
// with, from the *.deps.json file the build writes next to it.
// packages.lock.json, which declares them, is the nugetlock package's.
package dotnet

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"sort"
	"strings"

	"github.com/seawall-dev/seawall/internal/catalog"
	"github.com/seawall-dev/seawall/internal/image"
	"github.com/seawall-dev/seawall/internal/inventory"
)

// maxFile bounds a deps.json; big applications have a few MB.
const maxFile = 64 << 20

// Cataloger reads .NET deps.json files.
type Cataloger struct{}

// New returns a deps.json cataloger.
func New() *Cataloger { return &Cataloger{} }

func (*Cataloger) Name() string { return "dotnet-deps" }

func (*Cataloger) Wants(p string, mode fs.FileMode) bool {
	return mode.IsRegular() && strings.HasSuffix(p, ".deps.json")
}

func (*Cataloger) Catalog(ctx context.Context, f *image.File) ([]inventory.Package, error) {
	b, err := f.ReadAll(maxFile)
	if err != nil {
		return nil, err
	}
	return Parse(b)
}

type depsFile struct {
	Targets   map[string]map[string]target `json:"targets"`
	Libraries map[string]library           `json:"libraries"`
}

type target struct {
	Dependencies map[string]string `json:"dependencies"`
}

type library struct {
	Type string `json:"type"`
}

const runtimePack = "runtimepack."

// Parse reads a deps.json. Every library of type "package" is a NuGet
// package, keyed "Name/Version". Libraries of type "project" are the
// application and its project references, not packages, and reference
// assemblies are compile-time only; both are left out. A self-contained
// application's "runtimepack" libraries are the .NET runtime it ships
// ("runtimepack.Microsoft.NETCore.App.Runtime.linux-x64/8.0.0"): they are
// reported under their NuGet name, which runtime advisories use, with
// Metadata["type"]="runtimepack". Direct marks what a project depends on.
func Parse(b []byte) ([]inventory.Package, error) {
	var df depsFile
	if err := json.Unmarshal(b, &df); err != nil {
		return nil, fmt.Errorf("not a readable deps.json: %w", err)
	}
	direct := map[string]bool{} // "Name/Version"
	for _, libs := range df.Targets {
		for key, t := range libs {
			if !strings.EqualFold(df.Libraries[key].Type, "project") {
				continue
			}
			for name, version := range t.Dependencies {
				direct[name+"/"+version] = true
			}
		}
	}

	keys := make([]string, 0, len(df.Libraries))
	for k := range df.Libraries {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var (
		pkgs []inventory.Package
		bad  int
	)
	for _, key := range keys {
		typ := strings.ToLower(df.Libraries[key].Type)
		if typ != "package" && typ != "runtimepack" {
			continue
		}
		name, version, ok := strings.Cut(key, "/")
		if !ok || name == "" || version == "" || strings.Contains(version, "/") {
			bad++
			continue
		}
		p := inventory.Package{Type: inventory.TypeNuGet, Name: name, Version: version, Direct: direct[key]}
		if typ == "runtimepack" {
			p.Name = strings.TrimPrefix(name, runtimePack)
			p.Metadata = map[string]string{"type": "runtimepack"}
		}
		pkgs = append(pkgs, p)
	}
	if bad > 0 {
		return pkgs, fmt.Errorf("%d libraries without a \"Name/Version\" key skipped", bad)
	}
	return pkgs, nil
}

var _ catalog.Cataloger = (*Cataloger)(nil)
