// Command osvdiff compares the findings of `seawall scan image --dir` and
// osv-scanner on the same lockfiles, for docs/ACCURACY.md
// (bench/osvscanner.sh runs it).
//
//	go run ./bench/osvdiff [-zips DIR] SET=ROOT,SEAWALL.json,OSV.json[,OSV.log]...
//
// ROOT is the directory both tools scanned; SEAWALL.json is Seawall's JSON
// report (--format json), OSV.json osv-scanner's (--format json
// --experimental-all-packages) and OSV.log its standard error. -zips is
// the --experimental-local-db-path osv-scanner read; with it and the log,
// osvdiff names the known causes of difference (see reasons).
//
// A finding is one vulnerability in one package of one lockfile: the key is
// (lockfile, ecosystem, package name, version) and the vulnerability is a
// set of IDs. For Seawall that set is the finding's id, aliases and matched
// advisories; for osv-scanner it is one of its groups (ids and aliases).
// Within one package, two findings are the same vulnerability when their ID
// sets intersect (transitively), so a CVE that Seawall reports as
// CVE-2022-1 with alias GHSA-x and osv-scanner as GO-2022-9 (aliases
// GHSA-x) counts once, in "both".
//
// Names are compared the way the registries do: PyPI names normalised
// (PEP 503), NuGet and Packagist lower-cased; Go versions lose their "v".
// Withdrawn findings are left out of the counts (osv-scanner drops
// withdrawn records) and listed.
package main

import (
	"archive/zip"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
)

// pkgKey identifies one package in one lockfile.
type pkgKey struct {
	file, eco, name, version string
}

func (k pkgKey) String() string { return fmt.Sprintf("%s %s@%s", k.eco, k.name, k.version) }

// finding is one vulnerability of one package as one tool reports it.
type finding struct {
	ids     []string // every ID and alias
	primary string
	detail  string
	recs    []string // the advisory records that matched
}

type side struct {
	failed    map[string]bool // lockfiles the tool could not read
	findings  map[pkgKey][]*finding
	packages  map[pkgKey]string // → the name as the tool spelled it
	withdrawn []string
	notes     []string
	records   map[string]osvRecord // osv-scanner: the matched records
}

type osvRecord struct {
	ID       string   `json:"id"`
	Aliases  []string `json:"aliases"`
	Withdraw string   `json:"withdrawn"`
	Affected []struct {
		Package struct {
			Ecosystem string `json:"ecosystem"`
			Name      string `json:"name"`
		} `json:"package"`
		Ranges []struct {
			Type   string              `json:"type"`
			Events []map[string]string `json:"events"`
		} `json:"ranges"`
		Versions []string `json:"versions"`
	} `json:"affected"`
}

var pep503 = regexp.MustCompile(`[-_.]+`)

func normName(eco, name string) string {
	switch eco {
	case "PyPI":
		return pep503.ReplaceAllString(strings.ToLower(name), "-")
	case "NuGet", "Packagist":
		return strings.ToLower(name)
	}
	return name
}

func normVersion(eco, v string) string {
	if eco == "Go" {
		return strings.TrimPrefix(v, "v")
	}
	return v
}

var purlEco = map[string]string{
	"pypi": "PyPI", "cargo": "crates.io", "golang": "Go", "maven": "Maven", "npm": "npm",
	"nuget": "NuGet", "composer": "Packagist", "gem": "RubyGems", "hex": "Hex", "pub": "Pub",
	"conan": "ConanCenter", "cran": "CRAN", "swift": "SwiftURL", "cocoapods": "CocoaPods", "hackage": "Hackage",
}

// seawallName turns a Seawall package's type, namespace and name into the
// OSV ecosystem and package name (the package URL would do, but it
// lower-cases some names).
func seawallName(typ, ns, name string) (eco, osvName string, ok bool) {
	eco, ok = purlEco[typ]
	if !ok {
		return "", "", false
	}
	switch {
	case ns == "":
		return eco, name, true
	case typ == "maven":
		return eco, ns + ":" + name, true
	}
	return eco, ns + "/" + name, true
}

func rel(root, p string) string {
	if r, err := filepath.Rel(root, p); err == nil && !strings.HasPrefix(r, "..") {
		return r
	}
	return strings.TrimPrefix(p, "/")
}

func readSeawall(root, file string) (*side, error) {
	var rep struct {
		Findings []struct {
			ID               string   `json:"id"`
			Aliases          []string `json:"aliases"`
			Advisories       []string `json:"advisories"`
			PackageID        string   `json:"packageID"`
			PackageName      string   `json:"packageName"`
			PURL             string   `json:"purl"`
			InstalledVersion string   `json:"installedVersion"`
			FixedVersions    []string `json:"fixedVersions"`
			Status           string   `json:"status"`
			Ecosystem        string   `json:"ecosystem"`
			Location         struct {
				Path string `json:"path"`
			} `json:"location"`
			Suppression any `json:"suppression"`
		} `json:"findings"`
		Packages []struct {
			ID        string `json:"id"`
			Type      string `json:"type"`
			Namespace string `json:"namespace"`
			Name      string `json:"name"`
			Version   string `json:"version"`
			PURL      string `json:"purl"`
			Locations []struct {
				Path string `json:"path"`
			} `json:"locations"`
		} `json:"packages"`
		NotCovered []struct {
			Ecosystem string `json:"ecosystem"`
			Packages  int    `json:"packages"`
			Reason    string `json:"reason"`
		} `json:"notCovered"`
		Warnings []string `json:"warnings"`
	}
	if err := readJSON(file, &rep); err != nil {
		return nil, err
	}
	s := &side{findings: map[pkgKey][]*finding{}, packages: map[pkgKey]string{}}
	names := map[string][2]string{} // package ID → ecosystem, name
	for _, p := range rep.Packages {
		eco, name, ok := seawallName(p.Type, p.Namespace, p.Name)
		if !ok {
			continue
		}
		names[p.ID] = [2]string{eco, name}
		for _, l := range p.Locations {
			s.packages[pkgKey{rel("/", l.Path), eco, normName(eco, name), normVersion(eco, p.Version)}] = name
		}
	}
	for _, f := range rep.Findings {
		en, ok := names[f.PackageID]
		eco, name := en[0], en[1]
		if !ok {
			eco, name = f.Ecosystem, f.PackageName
		}
		if f.Ecosystem != "" {
			eco, _, _ = strings.Cut(f.Ecosystem, ":")
		}
		k := pkgKey{rel("/", f.Location.Path), eco, normName(eco, name), normVersion(eco, f.InstalledVersion)}
		ids := append(append([]string{f.ID}, f.Aliases...), f.Advisories...)
		if f.Status == "withdrawn" {
			s.withdrawn = append(s.withdrawn, fmt.Sprintf("%s: %s (%s)", k.file, k, strings.Join(uniq(ids), ", ")))
			continue
		}
		if f.Suppression != nil {
			s.notes = append(s.notes, fmt.Sprintf("suppressed: %s: %s %s", k.file, k, f.ID))
			continue
		}
		fix := "no fix"
		if len(f.FixedVersions) > 0 {
			fix = "fixed in " + strings.Join(f.FixedVersions, ", ")
		}
		s.findings[k] = append(s.findings[k], &finding{ids: uniq(ids), primary: f.ID, recs: f.Advisories, detail: fix})
	}
	for _, n := range rep.NotCovered {
		s.notes = append(s.notes, fmt.Sprintf("Seawall not covered: %s (%d packages): %s", n.Ecosystem, n.Packages, n.Reason))
	}
	for _, w := range rep.Warnings {
		s.notes = append(s.notes, "Seawall warning: "+w)
	}
	return s, nil
}

// readOSVLog notes the lockfiles osv-scanner said it could not read.
func readOSVLog(root, file string, s *side) error {
	b, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	s.failed = map[string]bool{}
	for _, l := range strings.Split(string(b), "\n") {
		if p, ok := strings.CutPrefix(l, "Attempted to scan lockfile but failed: "); ok {
			s.failed[rel(root, strings.TrimSpace(p))] = true
		}
	}
	return nil
}

func readOSV(root, file string) (*side, error) {
	var rep struct {
		Results []struct {
			Source struct {
				Path string `json:"path"`
			} `json:"source"`
			Packages []struct {
				Package struct {
					Name      string `json:"name"`
					Version   string `json:"version"`
					Ecosystem string `json:"ecosystem"`
				} `json:"package"`
				Vulnerabilities []osvRecord `json:"vulnerabilities"`
				Groups          []struct {
					IDs     []string `json:"ids"`
					Aliases []string `json:"aliases"`
				} `json:"groups"`
			} `json:"packages"`
		} `json:"results"`
	}
	s := &side{findings: map[pkgKey][]*finding{}, packages: map[pkgKey]string{}, records: map[string]osvRecord{}}
	if err := readJSON(file, &rep); err != nil {
		return nil, err
	}
	for _, r := range rep.Results {
		for _, p := range r.Packages {
			eco := p.Package.Ecosystem
			k := pkgKey{rel(root, r.Source.Path), eco, normName(eco, p.Package.Name), normVersion(eco, p.Package.Version)}
			s.packages[k] = p.Package.Name
			for _, v := range p.Vulnerabilities {
				s.records[v.ID] = v
			}
			for _, g := range p.Groups {
				ids := append(append([]string{}, g.IDs...), g.Aliases...)
				s.findings[k] = append(s.findings[k], &finding{ids: uniq(ids), primary: strings.Join(g.IDs, "+"), recs: g.IDs})
			}
		}
	}
	return s, nil
}

func readJSON(file string, v any) error {
	b, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	return nil
}

func uniq(s []string) []string {
	m := map[string]bool{}
	var out []string
	for _, x := range s {
		if x != "" && !m[x] {
			m[x] = true
			out = append(out, x)
		}
	}
	sort.Strings(out)
	return out
}

// component is one vulnerability of one package: the findings of both
// tools whose ID sets are connected.
type component struct {
	sw, osv []*finding
}

func components(a, b []*finding) []component {
	all := append(append([]*finding{}, a...), b...)
	parent := make([]int, len(all))
	for i := range parent {
		parent[i] = i
	}
	var find func(int) int
	find = func(i int) int {
		if parent[i] != i {
			parent[i] = find(parent[i])
		}
		return parent[i]
	}
	owner := map[string]int{}
	for i, f := range all {
		for _, id := range f.ids {
			if j, ok := owner[id]; ok {
				parent[find(i)] = find(j)
			} else {
				owner[id] = i
			}
		}
	}
	byRoot := map[int]*component{}
	var order []int
	for i, f := range all {
		r := find(i)
		c, ok := byRoot[r]
		if !ok {
			c = &component{}
			byRoot[r] = c
			order = append(order, r)
		}
		if i < len(a) {
			c.sw = append(c.sw, f)
		} else {
			c.osv = append(c.osv, f)
		}
	}
	out := make([]component, 0, len(order))
	for _, r := range order {
		out = append(out, *byRoot[r])
	}
	return out
}

// byEco sums the findings per ecosystem, over every set.
var byEco = map[string]*row{}

type row struct {
	set, file                        string
	swN, osvN, both, onlySW, onlyOSV int
	swPkgs, osvPkgs, bothPkgs        int
}

type diff struct {
	set    string
	key    pkgKey
	kind   string // "only-seawall", "only-osv-scanner", "grouping"
	text   string
	reason string // a key of reasons, or ""
}

// reasons are the causes of difference that osvdiff recognises by itself;
// the rest are printed as "unclassified" and must be explained by hand.
var reasons = map[string]string{
	"go-directive": "osv-scanner reports the go.mod `go` directive as package `stdlib` at that version; " +
		"Seawall does not (the directive is the oldest Go allowed to build the module, not the toolchain that does)",
	"go-sum": "Seawall also reads go.sum beside a go.mod older than Go 1.17, whose require list is not the whole build list; " +
		"osv-scanner reads go.mod only",
	"git-range-first": "osv-scanner v1.9.2 stops at the first range that is neither ECOSYSTEM nor SEMVER " +
		"(`rangeAffectsVersion` returns false on a GIT range listed first, as PyPA records do) and then only " +
		"matches the record's `versions` list by exact string; the version is not spelled exactly as listed there",
	"requirements-include": "osv-scanner follows `-r FILE` in requirements files and reports the included packages " +
		"under the including file too; Seawall reads each requirements file on its own, and reports the same finding " +
		"under the included file, which is in the scanned tree",
	"osv-parse-failure": "osv-scanner could not read the lockfile at all (see its log)",
	"osv-name-garbled": "osv-scanner read the package's name with extra characters (`celery ` from `celery [redis] == 4.4.7`), " +
		"so no record's package name matches",
}

func main() {
	flag.StringVar(&zipsDir, "zips", "", "osv-scanner's local DB directory (holds osv-scanner/<ECOSYSTEM>/all.zip), to read records")
	flag.Parse()
	if flag.NArg() < 1 {
		fmt.Fprintln(os.Stderr, "usage: osvdiff [-zips DIR] SET=ROOT,SEAWALL.json,OSV.json[,OSV.log]...")
		os.Exit(2)
	}
	var rows []row
	var diffs []diff
	var notes []string
	var pkgDiffs []string
	for _, arg := range flag.Args() {
		set, rest, _ := strings.Cut(arg, "=")
		parts := strings.Split(rest, ",")
		if len(parts) != 3 && len(parts) != 4 {
			fmt.Fprintln(os.Stderr, "osvdiff: bad argument", arg)
			os.Exit(2)
		}
		root, _ := filepath.Abs(parts[0])
		sw, err := readSeawall(root, parts[1])
		if err != nil {
			fmt.Fprintln(os.Stderr, "osvdiff:", err)
			os.Exit(1)
		}
		ov, err := readOSV(root, parts[2])
		if err == nil && len(parts) == 4 {
			err = readOSVLog(root, parts[3], ov)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "osvdiff:", err)
			os.Exit(1)
		}
		for _, w := range sw.withdrawn {
			notes = append(notes, fmt.Sprintf("%s/%s: Seawall reports it as withdrawn (osv-scanner drops withdrawn records; not counted)", set, w))
		}
		for _, n := range sw.notes {
			notes = append(notes, set+": "+n)
		}
		r, d, pd := compare(set, sw, ov)
		rows = append(rows, r...)
		diffs = append(diffs, d...)
		pkgDiffs = append(pkgDiffs, pd...)
	}
	printReport(rows, diffs, notes, pkgDiffs)
}

func compare(set string, sw, ov *side) ([]row, []diff, []string) {
	files := map[string]*row{}
	get := func(f string) *row {
		if r, ok := files[f]; ok {
			return r
		}
		r := &row{set: set, file: f}
		files[f] = r
		return r
	}
	keys := map[pkgKey]bool{}
	for k := range sw.findings {
		keys[k] = true
	}
	for k := range ov.findings {
		keys[k] = true
	}
	for k := range sw.packages {
		get(k.file).swPkgs++
		if _, ok := ov.packages[k]; ok {
			get(k.file).bothPkgs++
		}
	}
	for k := range ov.packages {
		get(k.file).osvPkgs++
	}
	sorted := make([]pkgKey, 0, len(keys))
	for k := range keys {
		sorted = append(sorted, k)
	}
	sort.Slice(sorted, func(i, j int) bool { return less(sorted[i], sorted[j]) })
	var diffs []diff
	for _, k := range sorted {
		r := get(k.file)
		e := byEco[k.eco]
		if e == nil {
			e = &row{file: k.eco}
			byEco[k.eco] = e
		}
		a, b := sw.findings[k], ov.findings[k]
		r.swN += len(a)
		r.osvN += len(b)
		e.swN += len(a)
		e.osvN += len(b)
		for _, c := range components(a, b) {
			switch {
			case len(c.sw) > 0 && len(c.osv) > 0:
				r.both++
				e.both++
				if len(c.sw) != 1 || len(c.osv) != 1 {
					diffs = append(diffs, diff{set, k, "grouping", fmt.Sprintf("Seawall: %s; osv-scanner: %s", descr(c.sw), descr(c.osv)), ""})
				}
			case len(c.sw) > 0:
				r.onlySW++
				e.onlySW++
				diffs = append(diffs, diff{set, k, "only-seawall", fmt.Sprintf("%s. osv-scanner: %s", descr(c.sw), presence(k, ov.packages)), classify(k, c, sw, ov)})
			default:
				r.onlyOSV++
				e.onlyOSV++
				diffs = append(diffs, diff{set, k, "only-osv-scanner", fmt.Sprintf("%s; %s. Seawall: %s", descr(c.osv), ranges(ov, k, c.osv), presence(k, sw.packages)), classify(k, c, sw, ov)})
			}
		}
	}
	var rows []row
	for _, r := range files {
		rows = append(rows, *r)
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].file < rows[j].file })

	var pd []string
	for _, r := range rows {
		var onlyS, onlyO []string
		for k := range sw.packages {
			if k.file == r.file {
				if _, ok := ov.packages[k]; !ok {
					onlyS = append(onlyS, k.eco+" "+k.name+"@"+k.version)
				}
			}
		}
		for k := range ov.packages {
			if k.file == r.file {
				if _, ok := sw.packages[k]; !ok {
					onlyO = append(onlyO, k.eco+" "+k.name+"@"+k.version)
				}
			}
		}
		if len(onlyS)+len(onlyO) == 0 {
			continue
		}
		sort.Strings(onlyS)
		sort.Strings(onlyO)
		line := fmt.Sprintf("- `%s/%s`:", set, r.file)
		if len(onlyS) > 0 {
			line += fmt.Sprintf(" only Seawall (%d): %s.", len(onlyS), strings.Join(onlyS, ", "))
		}
		if len(onlyO) > 0 {
			line += fmt.Sprintf(" only osv-scanner (%d): %s.", len(onlyO), strings.Join(onlyO, ", "))
		}
		pd = append(pd, line)
	}
	return rows, diffs, pd
}

var (
	zipsDir string
	zips    = map[string]map[string]*zip.File{}
)

// record reads one record from osv-scanner's local DB.
func record(eco, id string) (osvRecord, bool) {
	var r osvRecord
	if zipsDir == "" {
		return r, false
	}
	files, ok := zips[eco]
	if !ok {
		files = map[string]*zip.File{}
		if zr, err := zip.OpenReader(filepath.Join(zipsDir, "osv-scanner", eco, "all.zip")); err == nil {
			for _, f := range zr.File {
				files[strings.TrimSuffix(f.Name, ".json")] = f
			}
		}
		zips[eco] = files
	}
	f, ok := files[id]
	if !ok {
		return r, false
	}
	rc, err := f.Open()
	if err != nil {
		return r, false
	}
	defer rc.Close()
	return r, json.NewDecoder(rc).Decode(&r) == nil
}

// classify names the cause of a difference when it is one osvdiff knows.
func classify(k pkgKey, c component, sw, ov *side) string {
	_, swHas := sw.packages[k]
	_, osvHas := ov.packages[k]
	switch {
	case len(c.sw) == 0 && k.eco == "Go" && k.name == "stdlib" && !swHas:
		return "go-directive"
	case len(c.osv) == 0 && strings.HasSuffix(k.file, "go.sum"):
		return "go-sum"
	case len(c.osv) == 0 && !osvHas && ov.failed[k.file]:
		return "osv-parse-failure"
	case len(c.osv) == 0 && !osvHas:
		for o := range ov.packages {
			if o.file == k.file && o.eco == k.eco && o.version == k.version && o.name != k.name && strings.TrimSpace(o.name) == k.name {
				return "osv-name-garbled"
			}
		}
	case len(c.osv) == 0 && osvHas:
		// Every record Seawall matched has, for this package, a first range
		// osv-scanner gives up on and no exact entry for the version.
		n := 0
		for _, f := range c.sw {
			for _, id := range f.recs {
				r, ok := record(k.eco, id)
				if !ok {
					return ""
				}
				for _, a := range r.Affected {
					if normName(k.eco, a.Package.Name) != k.name {
						continue
					}
					if len(a.Ranges) == 0 || a.Ranges[0].Type == "ECOSYSTEM" || a.Ranges[0].Type == "SEMVER" || slices.Contains(a.Versions, k.version) {
						return ""
					}
					n++
				}
			}
		}
		if n > 0 {
			return "git-range-first"
		}
	case len(c.sw) == 0 && !swHas && k.eco == "PyPI" && strings.HasSuffix(k.file, ".txt"):
		dir := filepath.Dir(k.file)
		for o := range sw.packages {
			if o.eco == k.eco && o.name == k.name && o.version == k.version && filepath.Dir(o.file) == dir && o.file != k.file {
				return "requirements-include"
			}
		}
	}
	return ""
}

func less(a, b pkgKey) bool {
	if a.file != b.file {
		return a.file < b.file
	}
	if a.eco != b.eco {
		return a.eco < b.eco
	}
	if a.name != b.name {
		return a.name < b.name
	}
	return a.version < b.version
}

func descr(fs []*finding) string {
	var s []string
	for _, f := range fs {
		d := f.primary
		if others := without(f.ids, f.primary); len(others) > 0 {
			d += " (" + strings.Join(others, ", ") + ")"
		}
		if f.detail != "" {
			d += ", " + f.detail
		}
		s = append(s, d)
	}
	return strings.Join(s, "; ")
}

func without(ids []string, drop string) []string {
	var out []string
	for _, id := range ids {
		if id != drop && !strings.Contains(drop, id) {
			out = append(out, id)
		}
	}
	return out
}

// presence says whether the other tool found the package at all.
func presence(k pkgKey, pk map[pkgKey]string) string {
	if _, ok := pk[k]; ok {
		return "has the package"
	}
	var same, elsewhere []string
	for o := range pk {
		if o.eco == k.eco && o.name == k.name {
			if o.file == k.file {
				same = append(same, o.version)
			} else if o.version == k.version {
				elsewhere = append(elsewhere, o.file)
			}
		}
	}
	sort.Strings(same)
	sort.Strings(elsewhere)
	switch {
	case len(same) > 0:
		return "has the package at " + strings.Join(same, ", ") + " instead"
	case len(elsewhere) > 0:
		return "has the package at this version in " + strings.Join(elsewhere, ", ")
	}
	return "does not list the package"
}

// ranges summarises the affected ranges of osv-scanner's matched records
// for the package.
func ranges(ov *side, k pkgKey, fs []*finding) string {
	var out []string
	for _, f := range fs {
		for _, id := range f.recs {
			rec, ok := ov.records[id]
			if !ok {
				continue
			}
			for _, a := range rec.Affected {
				if normName(k.eco, a.Package.Name) != k.name {
					continue
				}
				var rs []string
				for _, r := range a.Ranges {
					var ev []string
					for _, e := range r.Events {
						for kk, vv := range e {
							ev = append(ev, kk+" "+vv)
						}
					}
					rs = append(rs, r.Type+" ["+strings.Join(ev, ", ")+"]")
				}
				if len(a.Versions) > 0 {
					rs = append(rs, fmt.Sprintf("%d listed versions", len(a.Versions)))
				}
				out = append(out, id+" "+a.Package.Ecosystem+": "+strings.Join(rs, "; "))
			}
		}
	}
	return strings.Join(out, " | ")
}

func printReport(rows []row, diffs []diff, notes, pkgDiffs []string) {
	fmt.Println("| lockfile | packages (Seawall / osv-scanner / both) | Seawall findings | osv-scanner findings | both | only Seawall | only osv-scanner |")
	fmt.Println("|---|---|---:|---:|---:|---:|---:|")
	var t row
	for _, r := range rows {
		fmt.Printf("| `%s/%s` | %d / %d / %d | %d | %d | %d | %d | %d |\n", r.set, r.file, r.swPkgs, r.osvPkgs, r.bothPkgs, r.swN, r.osvN, r.both, r.onlySW, r.onlyOSV)
		t.swPkgs += r.swPkgs
		t.osvPkgs += r.osvPkgs
		t.bothPkgs += r.bothPkgs
		t.swN += r.swN
		t.osvN += r.osvN
		t.both += r.both
		t.onlySW += r.onlySW
		t.onlyOSV += r.onlyOSV
	}
	fmt.Printf("| **total (%d lockfiles)** | %d / %d / %d | %d | %d | %d | %d | %d |\n", len(rows), t.swPkgs, t.osvPkgs, t.bothPkgs, t.swN, t.osvN, t.both, t.onlySW, t.onlyOSV)
	fmt.Println()
	fmt.Println("| ecosystem | Seawall findings | osv-scanner findings | both | only Seawall | only osv-scanner |")
	fmt.Println("|---|---:|---:|---:|---:|---:|")
	ecos := make([]string, 0, len(byEco))
	for e := range byEco {
		ecos = append(ecos, e)
	}
	sort.Strings(ecos)
	for _, e := range ecos {
		r := byEco[e]
		fmt.Printf("| %s | %d | %d | %d | %d | %d |\n", e, r.swN, r.osvN, r.both, r.onlySW, r.onlyOSV)
	}
	fmt.Println()
	fmt.Println("### differences by cause")
	fmt.Println()
	fmt.Println("| cause | only Seawall | only osv-scanner | grouping | what it is |")
	fmt.Println("|---|---:|---:|---:|---|")
	count := map[string]map[string]int{}
	for _, d := range diffs {
		r := d.reason
		if r == "" {
			r = "unclassified"
		}
		if count[r] == nil {
			count[r] = map[string]int{}
		}
		count[r][d.kind]++
	}
	causes := make([]string, 0, len(count))
	for r := range count {
		causes = append(causes, r)
	}
	sort.Strings(causes)
	for _, r := range causes {
		what := reasons[r]
		if r == "unclassified" {
			what = "explained one by one below"
		}
		fmt.Printf("| %s | %d | %d | %d | %s |\n", r, count[r]["only-seawall"], count[r]["only-osv-scanner"], count[r]["grouping"], what)
	}
	fmt.Println()
	for _, kind := range []string{"only-seawall", "only-osv-scanner", "grouping"} {
		// One bullet per package: its differences of this kind.
		type group struct {
			set    string
			key    pkgKey
			reason string
			text   []string
		}
		var groups []*group
		idx := map[string]*group{}
		n := 0
		for _, d := range diffs {
			if d.kind != kind {
				continue
			}
			n++
			id := d.set + "\x00" + d.key.file + "\x00" + d.key.String() + "\x00" + d.reason
			g, ok := idx[id]
			if !ok {
				g = &group{set: d.set, key: d.key, reason: d.reason}
				idx[id] = g
				groups = append(groups, g)
			}
			g.text = append(g.text, d.text)
		}
		fmt.Printf("### %s: %d findings in %d packages\n\n", kind, n, len(groups))
		for _, g := range groups {
			tag := g.reason
			if tag == "" {
				tag = "unclassified"
			}
			if len(g.text) == 1 {
				fmt.Printf("- [%s] `%s/%s` %s: %s\n", tag, g.set, g.key.file, g.key, g.text[0])
				continue
			}
			fmt.Printf("- [%s] `%s/%s` %s: %d findings:\n", tag, g.set, g.key.file, g.key, len(g.text))
			for _, t := range g.text {
				fmt.Printf("  - %s\n", t)
			}
		}
		fmt.Println()
	}
	fmt.Printf("### packages found by one tool only (%d lockfiles)\n\n", len(pkgDiffs))
	for _, p := range pkgDiffs {
		fmt.Println(p)
	}
	fmt.Println()
	fmt.Printf("### notes (%d)\n\n", len(notes))
	for _, n := range notes {
		fmt.Println("- " + n)
	}
}
