package match

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/seawall-dev/seawall/internal/imagetest"
)

// TestGoAgainstOSVDev is the Go bar: using only the Go
// vulnerability database, the matcher finds every ID osv.dev returned for
// each Go query (a GHSA or CVE counts as found when a matched GO record
// lists it as an alias); IDs in no staged record are data gaps, listed and
// not counted; and every extra ID is a record published after the answer
// was recorded.
func TestGoAgainstOSVDev(t *testing.T) {
	data := imagetest.SharedData(t)
	rows := onlyEcosystem(readQueryRows(t, filepath.Join(data, "golden", "osv-api-querybatch", "osv-scanner-cassettes.querybatch.tsv")), "Go")
	recs := loadRecords(t, filepath.Join(data, "osv", "go-vulndb", "data", "osv"))
	c := compare(t, data, rows, recs, nil)
	c.report(t, "Go")
	for _, d := range c.diffs {
		switch {
		case d.kind == "missing":
			t.Errorf("%s@%s: osv.dev returned %s and a staged record has it, but the matcher did not find it", d.row.name, d.row.version, d.id)
		case d.kind == "extra" && !d.later && !strings.HasPrefix(d.explanation, "withdrawn"):
			t.Errorf("%s@%s: extra %s is not a record published after the answer was recorded (%s)", d.row.name, d.row.version, d.id, d.explanation)
		}
	}
	if c.found == 0 {
		t.Error("no ID found at all")
	}
}

func onlyEcosystem(rows []queryRow, eco string) []queryRow {
	var out []queryRow
	for _, r := range rows {
		if r.eco == eco {
			out = append(out, r)
		}
	}
	return out
}

// TestOtherEcosystemsAgainstOSVDev compares the matcher with osv.dev for
// every other ecosystem of the query table that the staged data covers:
// PyPI (the PyPA database), crates.io (RustSec), and Maven, npm, NuGet,
// Packagist and RubyGems (GitHub advisories: the hand-picked records and
// the records osv-scalibr's tests keep as osv.dev served them). Every
// difference must be explained; the explanations are what
// docs/ACCURACY-match.md tabulates.
func TestOtherEcosystemsAgainstOSVDev(t *testing.T) {
	data := imagetest.SharedData(t)
	rows := readQueryRows(t, filepath.Join(data, "golden", "osv-api-querybatch", "osv-scanner-cassettes.querybatch.tsv"))
	osvDir := filepath.Join(data, "osv")
	recs := loadRecords(t,
		filepath.Join(osvDir, "pypa-advisory-database", "vulns"),
		filepath.Join(osvDir, "rustsec-osv", "crates"),
		filepath.Join(osvDir, "ghsa-selected", "advisories"),
		filepath.Join(osvDir, "osvdev-export-from-osv-scalibr", "guidedremediation"),
	)
	for _, eco := range []string{"PyPI", "crates.io", "Maven", "npm", "NuGet", "Packagist", "RubyGems"} {
		t.Run(eco, func(t *testing.T) {
			c := compare(t, data, onlyEcosystem(rows, eco), recs, knownDifferences)
			c.report(t, eco)
		})
	}
}

// knownDifferences are the extra records investigated by hand. In each
// case the staged copy is older than osv.dev's answer and osv.dev's answer
// holds neither the record nor any of its aliases, although the staged
// copy plainly covers the version; osv.dev's record must have been
// narrowed or withdrawn since, which the staged data cannot show.
var knownDifferences = map[string]string{
	"PYSEC-2021-108": "the staged copy (PyPA snapshot of 2024-10-10, record modified 2021-07-02) affects every urllib3 before 1.26.5; " +
		"osv.dev's answer has neither it nor its aliases CVE-2021-33503 and GHSA-q2q7-5pp4-w6pg, so its record no longer covers 1.24.3",
	"GHSA-crjg-w57m-rqqf": "the staged copy (osv.dev's record as osv-scalibr's test data kept it, modified 2024-07-22) lists 3.4.0 among the affected versions; " +
		"osv.dev's later answer does not return it, so the record was narrowed or withdrawn since",
	"GHSA-mmwx-rj87-vfgr": "the staged copy (osv.dev's record as osv-scalibr's test data kept it, modified 2024-07-22) lists 3.4.0 among the affected versions; " +
		"osv.dev's later answer does not return it, so the record was narrowed or withdrawn since",
}
