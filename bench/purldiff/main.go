// Command purldiff compares the package URLs in CycloneDX JSON SBOMs made
// by different tools from the same input, for docs/ACCURACY.md.
//
//	go run ./bench/purldiff seawall=a.cdx.json syft=b.cdx.json trivy=c.cdx.json
//
// PURLs are compared on type, namespace, name and version; qualifiers
// (arch, distro, epoch, upstream) are dropped because the tools spell them
// differently. Names are lower-cased for types whose registries are
// case-insensitive.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"

	packageurl "github.com/package-url/packageurl-go"
)

type bom struct {
	Components []component `json:"components"`
}

type component struct {
	PURL       string      `json:"purl"`
	Type       string      `json:"type"`
	Components []component `json:"components"`
}

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: purldiff NAME=FILE NAME=FILE...")
		os.Exit(2)
	}
	var names []string
	sets := map[string]map[string]bool{}
	for _, arg := range os.Args[1:] {
		name, file, ok := strings.Cut(arg, "=")
		if !ok {
			fmt.Fprintf(os.Stderr, "purldiff: %q is not NAME=FILE\n", arg)
			os.Exit(2)
		}
		s, err := load(file)
		if err != nil {
			fmt.Fprintf(os.Stderr, "purldiff: %s: %v\n", file, err)
			os.Exit(1)
		}
		names = append(names, name)
		sets[name] = s
	}
	union := map[string]bool{}
	for _, s := range sets {
		for p := range s {
			union[p] = true
		}
	}
	// Counts per tool and type.
	types := map[string]bool{}
	for p := range union {
		types[purlType(p)] = true
	}
	var tl []string
	for t := range types {
		tl = append(tl, t)
	}
	sort.Strings(tl)
	fmt.Printf("| type | %s |\n|---|%s\n", strings.Join(names, " | "), strings.Repeat("---|", len(names)))
	for _, t := range append(tl, "total") {
		row := []string{t}
		for _, n := range names {
			c := 0
			for p := range sets[n] {
				if t == "total" || purlType(p) == t {
					c++
				}
			}
			row = append(row, fmt.Sprint(c))
		}
		fmt.Printf("| %s |\n", strings.Join(row, " | "))
	}
	// Differences relative to the first tool.
	first := names[0]
	for _, other := range names[1:] {
		only := diff(sets[other], sets[first])
		missing := diff(sets[first], sets[other])
		fmt.Printf("\nfound by %s but not %s (%d):\n", other, first, len(only))
		for _, p := range only {
			fmt.Println("  " + p)
		}
		fmt.Printf("found by %s but not %s (%d):\n", first, other, len(missing))
		for _, p := range missing {
			fmt.Println("  " + p)
		}
	}
}

func diff(a, b map[string]bool) []string {
	var out []string
	for p := range a {
		if !b[p] {
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out
}

func purlType(p string) string {
	t, _, _ := strings.Cut(strings.TrimPrefix(p, "pkg:"), "/")
	return t
}

func load(file string) (map[string]bool, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var d bom
	if err := json.Unmarshal(b, &d); err != nil {
		return nil, err
	}
	out := map[string]bool{}
	var walk func([]component)
	walk = func(cs []component) {
		for _, c := range cs {
			if c.PURL != "" && c.Type != "operating-system" {
				if n, ok := normalize(c.PURL); ok {
					out[n] = true
				}
			}
			walk(c.Components)
		}
	}
	walk(d.Components)
	return out, nil
}

// normalize drops qualifiers and subpath, and lower-cases names where the
// ecosystem is case-insensitive.
func normalize(s string) (string, bool) {
	p, err := packageurl.FromString(s)
	if err != nil {
		return "", false
	}
	switch p.Type {
	case "pypi", "npm", "nuget", "composer", "gem":
		p.Name = strings.ToLower(p.Name)
		p.Namespace = strings.ToLower(p.Namespace)
	}
	if p.Type == "pypi" {
		p.Name = strings.NewReplacer("_", "-", ".", "-").Replace(p.Name)
	}
	// trivy writes a Debian epoch as a qualifier; syft and Seawall keep it
	// in the version, as dpkg does.
	if p.Type == "deb" {
		if e := p.Qualifiers.Map()["epoch"]; e != "" && e != "0" && !strings.Contains(p.Version, ":") {
			p.Version = e + ":" + p.Version
		}
	}
	if p.Type == "golang" {
		p.Version = strings.TrimPrefix(p.Version, "v")
	}
	return packageurl.NewPackageURL(p.Type, p.Namespace, p.Name, p.Version, nil, "").ToString(), true
}
