package match

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/seawall-dev/seawall/internal/inventory"
	"github.com/seawall-dev/seawall/internal/osv"
	"github.com/seawall-dev/seawall/internal/version"
)

// This file compares the matcher with osv.dev's answers, as osv-scanner's
// test cassettes recorded them (golden/osv-api-querybatch, a table derived
// from golden/osv-scanner's go-vcr cassettes of /v1/querybatch).

// queryRow is one query of the table: a package version and the IDs
// osv.dev returned for it.
type queryRow struct {
	cassette, eco, name, version string
	ids                          []string
}

// queriesInventory holds one package per distinct query.
func queriesInventory(rows []queryRow) *inventory.Inventory {
	inv := &inventory.Inventory{}
	seen := map[string]bool{}
	for _, r := range rows {
		p := packageFor(r.eco, r.name, r.version)
		if !seen[p.ID] {
			seen[p.ID] = true
			inv.Packages = append(inv.Packages, p)
		}
	}
	return inv
}

func readQueryRows(t testing.TB, path string) []queryRow {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rows []queryRow
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		c := strings.Split(sc.Text(), "\t")
		if len(c) < 8 || c[0] == "cassette" || c[3] == "" || c[5] == "" {
			continue // the header, and commit or purl queries
		}
		r := queryRow{cassette: c[0], eco: c[2], name: c[3], version: c[5]}
		if c[7] != "" {
			r.ids = strings.Split(c[7], ",")
		}
		rows = append(rows, r)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return rows
}

// cassette is what a recording tells about time: osv.dev's answers carry
// each record's modified time, so the answer was recorded no earlier than
// the latest of them.
type cassette struct {
	recorded time.Time            // the latest modified time in any answer
	modified map[string]time.Time // each returned ID's modified time
}

var idModified = regexp.MustCompile(`"id":\s*"([^"]+)",\s*"modified":\s*"([^"]+)"`)

func readCassette(t testing.TB, path string) cassette {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	c := cassette{modified: map[string]time.Time{}}
	for _, m := range idModified.FindAllSubmatch(b, -1) {
		ts, err := time.Parse(time.RFC3339Nano, string(m[2]))
		if err != nil {
			continue
		}
		id := string(m[1])
		if ts.After(c.modified[id]) {
			c.modified[id] = ts
		}
		if ts.After(c.recorded) {
			c.recorded = ts
		}
	}
	return c // recorded stays zero for a cassette whose answers are all empty
}

// packageFor builds the inventory package a query stands for.
func packageFor(eco, name, version string) inventory.Package {
	p := inventory.Package{Name: name, Version: version}
	switch eco {
	case "Go":
		p.Type = inventory.TypeGolang
	case "PyPI":
		p.Type = inventory.TypePyPI
	case "crates.io":
		p.Type = inventory.TypeCargo
	case "RubyGems":
		p.Type = inventory.TypeGem
	case "NuGet":
		p.Type = inventory.TypeNuGet
	case "npm":
		p.Type = inventory.TypeNPM
		if strings.HasPrefix(name, "@") {
			p.Namespace, p.Name, _ = strings.Cut(name, "/")
		}
	case "Packagist":
		p.Type = inventory.TypeComposer
		p.Namespace, p.Name, _ = strings.Cut(name, "/")
	case "Maven":
		p.Type = inventory.TypeMaven
		p.Namespace, p.Name, _ = strings.Cut(name, ":")
	}
	p.ID = eco + " " + name + "@" + version
	return p
}

// difference is one ID on which the matcher and osv.dev disagree, or one
// osv.dev returned that the staged data cannot have.
type difference struct {
	row         queryRow
	id          string
	kind        string // "missing", "extra" or "data gap"
	explanation string // empty when unexplained
	// later is set for an extra record shown to be published after the
	// answer was recorded.
	later bool
}

// comparison is the outcome for one ecosystem.
type comparison struct {
	queries, agreeing int // distinct (package, version, cassette) queries; those with no unexplained difference
	osvIDs, found     int // IDs osv.dev returned that the staged data has; those the matcher found
	gaps              int
	diffs             []difference
}

// compare runs the matcher on every query of the rows and compares it with
// osv.dev's answer. An ID osv.dev returned counts as found when a finding
// has it as its ID, an alias or an advisory. An ID that no staged record
// has as its ID or alias is a data gap. Every other difference gets an
// explanation when the data gives one:
//   - an extra record published after the answer was recorded: by its
//     publication time or, where the staged record has none (the Go
//     database's repository copy zeroes them), because every version that
//     fixes it is a release later than every fix in osv.dev's answers for
//     that package in the same recording (see laterRelease);
//   - an extra record changed after the answer was recorded;
//   - a withdrawn record (reported as withdrawn; osv.dev leaves them out);
//   - an extra record that is the same vulnerability as an ID osv.dev did
//     return (osv.dev answered with only one of the aliases);
//   - a missing record whose staged version is older than the one osv.dev
//     answered with.
//
// known holds the differences investigated by hand that the data alone
// cannot explain, by ID; each applies only to a record whose staged copy is
// older than the answer, and whose whole alias group osv.dev left out.
func compare(t *testing.T, data string, rows []queryRow, recs []*osv.Vulnerability, known map[string]string) comparison {
	t.Helper()
	db := newMemDB(recs...)
	byID := map[string]*osv.Vulnerability{}
	staged := map[string]bool{}
	for _, r := range recs {
		byID[r.ID] = r
		staged[r.ID] = true
		for _, a := range r.Aliases {
			staged[a] = true
		}
	}
	cassettes := map[string]cassette{}
	// fixes[cassette][package] lists the fixed versions of the staged
	// records osv.dev returned for the package in that recording.
	fixes := map[string]map[string][]string{}
	for _, r := range rows {
		for _, id := range r.ids {
			if rec := byID[id]; rec != nil {
				if fixes[r.cassette] == nil {
					fixes[r.cassette] = map[string][]string{}
				}
				k := releaseLine(r.eco, r.name)
				fixes[r.cassette][k] = append(fixes[r.cassette][k], fixedFor(rec, r.eco, r.name)...)
			}
		}
	}
	var cmpr comparison
	type key struct{ cassette, eco, name, version string }
	done := map[key]bool{}
	inv := &inventory.Inventory{}
	var queries []queryRow
	for _, r := range rows {
		k := key{r.cassette, r.eco, r.name, r.version}
		if done[k] {
			continue
		}
		done[k] = true
		queries = append(queries, r)
		if _, ok := cassettes[r.cassette]; !ok {
			cassettes[r.cassette] = readCassette(t, filepath.Join(data, r.cassette))
		}
		inv.Packages = append(inv.Packages, packageFor(r.eco, r.name, r.version))
	}
	findings, _, err := Match(context.Background(), inv, db, Options{})
	if err != nil {
		t.Fatal(err)
	}
	foundBy := map[string]map[string]bool{}   // package ID → every ID of its findings
	matchedBy := map[string]map[string]bool{} // package ID → records that matched
	groupOf := map[string]map[string][]string{}
	for _, f := range findings {
		if foundBy[f.PackageID] == nil {
			foundBy[f.PackageID], matchedBy[f.PackageID], groupOf[f.PackageID] = map[string]bool{}, map[string]bool{}, map[string][]string{}
		}
		ids := append(append([]string{f.ID}, f.Aliases...), f.Advisories...)
		for _, id := range ids {
			foundBy[f.PackageID][id] = true
		}
		for _, a := range f.Advisories {
			matchedBy[f.PackageID][a] = true
			groupOf[f.PackageID][a] = ids
		}
	}
	for _, q := range queries {
		cmpr.queries++
		c := cassettes[q.cassette]
		pid := packageFor(q.eco, q.name, q.version).ID
		answered := map[string]bool{}
		unexplained := 0
		note := func(d difference) {
			cmpr.diffs = append(cmpr.diffs, d)
			if d.explanation == "" && d.kind != "data gap" {
				unexplained++
			}
		}
		for _, id := range q.ids {
			answered[id] = true
			if !staged[id] {
				cmpr.gaps++
				note(difference{row: q, id: id, kind: "data gap", explanation: "no staged record has this ID or alias"})
				continue
			}
			cmpr.osvIDs++
			if foundBy[pid][id] {
				cmpr.found++
				continue
			}
			d := difference{row: q, id: id, kind: "missing"}
			r := byID[id]
			switch {
			case r == nil:
				d.explanation = "osv.dev answered from the " + id + " record itself, which is not staged; it is only an alias of staged records (" +
					strings.Join(aliasedBy(recs, id), ", ") + ") whose affected versions do not include this one"
			case !r.Modified.IsZero() && !c.modified[id].IsZero() && r.Modified.Before(c.modified[id]):
				d.explanation = fmt.Sprintf("the staged record (modified %s) is older than the one osv.dev answered with (modified %s)",
					r.Modified.Format(time.DateOnly), c.modified[id].Format(time.DateOnly))
			}
			note(d)
		}
		var extras []string
		for id := range matchedBy[pid] {
			if !answered[id] {
				extras = append(extras, id)
			}
		}
		sort.Strings(extras)
		for _, id := range extras {
			r := byID[id]
			d := difference{row: q, id: id, kind: "extra"}
			switch {
			case !r.Withdrawn.IsZero():
				d.explanation = "withdrawn " + r.Withdrawn.Format(time.DateOnly) + "; reported with status withdrawn, which osv.dev leaves out"
			case r.Published.After(c.recorded):
				d.later = true
				d.explanation = fmt.Sprintf("published %s, after the answer was recorded (no earlier than %s)",
					r.Published.Format(time.DateOnly), c.recorded.Format(time.DateOnly))
			case r.Published.IsZero() && laterRelease(q.eco, q.name, fixedFor(r, q.eco, q.name), fixes[q.cassette][releaseLine(q.eco, q.name)]):
				d.later = true
				d.explanation = fmt.Sprintf("published after the answer was recorded: the staged record has no publication time, and it is fixed only in %s, releases later than every fix in osv.dev's answers of that recording (%s)",
					strings.Join(fixedFor(r, q.eco, q.name), ", "), strings.Join(latestOn(q.eco, q.name, fixedFor(r, q.eco, q.name), fixes[q.cassette][releaseLine(q.eco, q.name)]), ", "))
			case r.Modified.After(c.recorded):
				d.explanation = fmt.Sprintf("the staged record was modified %s, after the answer was recorded (no earlier than %s)",
					r.Modified.Format(time.DateOnly), c.recorded.Format(time.DateOnly))
			default:
				for _, other := range groupOf[pid][id] {
					if answered[other] {
						d.explanation = "the same vulnerability as " + other + ", which osv.dev returned"
						break
					}
				}
				if d.explanation == "" && known[id] != "" && r.Modified.Before(c.recorded) {
					d.explanation = known[id]
				}
			}
			note(d)
		}
		if unexplained == 0 {
			cmpr.agreeing++
		}
	}
	return cmpr
}

func (c comparison) report(t *testing.T, eco string) {
	t.Helper()
	t.Logf("%s: %d queries, %d agree or differ only as explained; osv.dev returned %d IDs the staged data has, the matcher found %d; %d data gaps",
		eco, c.queries, c.agreeing, c.osvIDs, c.found, c.gaps)
	for _, d := range c.diffs {
		msg := fmt.Sprintf("%s %s@%s (%s): %s %s", d.row.eco, d.row.name, d.row.version, filepath.Base(d.row.cassette), d.kind, d.id)
		switch {
		case d.kind == "data gap":
			t.Logf("  %s", msg)
		case d.explanation != "":
			t.Logf("  %s: %s", msg, d.explanation)
		default:
			t.Errorf("  %s: unexplained", msg)
		}
	}
}

// aliasedBy lists the staged records that have id as an alias.
func aliasedBy(recs []*osv.Vulnerability, id string) []string {
	var out []string
	for _, r := range recs {
		for _, a := range r.Aliases {
			if a == id {
				out = append(out, r.ID)
				break
			}
		}
	}
	sort.Strings(out)
	return out
}

// fixedFor returns the fixed versions a record gives for a package.
func fixedFor(r *osv.Vulnerability, eco, name string) []string {
	var out []string
	for _, a := range r.Affected {
		if a.Package.Ecosystem != eco || !sameName(eco, a.Package.Name, name) {
			continue
		}
		for _, rg := range a.Ranges {
			if rg.Type == osv.RangeGit {
				continue
			}
			for _, e := range rg.Events {
				if e.Fixed != "" {
					out = append(out, e.Fixed)
				}
			}
		}
	}
	return out
}

// releaseLine names the releases a package's fixes are compared within:
// the Go toolchain's releases fix both "stdlib" and "toolchain" records.
func releaseLine(eco, name string) string {
	if eco == "Go" && (name == "stdlib" || name == "toolchain") {
		return "Go toolchain"
	}
	return eco + " " + name
}

// branch is the release branch a Go toolchain version belongs to
// ("1.26" for 1.26.5 and 1.26.0-rc.1); other packages have one line.
func branch(eco, name, v string) string {
	if releaseLine(eco, name) != "Go toolchain" {
		return ""
	}
	parts := strings.SplitN(v, ".", 3)
	if len(parts) < 2 {
		return v
	}
	minor, _, _ := strings.Cut(parts[1], "-")
	return parts[0] + "." + minor
}

// latestPerLine returns the latest of the versions on each branch.
func latestPerLine(eco, name string, versions []string) []string {
	latest := map[string]string{}
	for _, v := range versions {
		b := branch(eco, name, v)
		if cur, ok := latest[b]; !ok || cmpVersion(eco, v, cur) > 0 {
			latest[b] = v
		}
	}
	out := make([]string, 0, len(latest))
	for _, v := range latest {
		out = append(out, v)
	}
	sort.Slice(out, func(i, j int) bool { return cmpVersion(eco, out[i], out[j]) < 0 })
	return out
}

// latestOn returns the latest known fix on each branch of the fixes.
func latestOn(eco, name string, fixed, known []string) []string {
	want := map[string]bool{}
	for _, f := range fixed {
		want[branch(eco, name, f)] = true
	}
	var out []string
	for _, v := range latestPerLine(eco, name, known) {
		if want[branch(eco, name, v)] {
			out = append(out, v)
		}
	}
	return out
}

// laterRelease reports whether every fix of a record is a release later
// than every fix osv.dev's answers knew on the same branch, with at least
// one such branch: a vulnerability is published no earlier than the release
// that fixes it, so such a record did not exist when the answer was made.
func laterRelease(eco, name string, fixed, known []string) bool {
	if len(fixed) == 0 || len(known) == 0 {
		return false
	}
	latest := map[string]string{}
	for _, v := range latestPerLine(eco, name, known) {
		latest[branch(eco, name, v)] = v
	}
	compared := false
	for _, f := range fixed {
		k, ok := latest[branch(eco, name, f)]
		if !ok {
			continue
		}
		compared = true
		if cmpVersion(eco, f, k) <= 0 {
			return false
		}
	}
	return compared
}

func cmpVersion(eco, a, b string) int {
	c, err := version.Compare(eco, a, b)
	if err != nil {
		return strings.Compare(a, b)
	}
	return c
}
