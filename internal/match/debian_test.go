package match

import (
	"bufio"
	"context"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/seawall-dev/seawall/internal/catalog/dpkg"
	"github.com/seawall-dev/seawall/internal/imagetest"
	"github.com/seawall-dev/seawall/internal/inventory"
)

// debianInventory builds the inventory of a Debian 12 root filesystem from
// its dpkg status file.
func debianInventory(t testing.TB, status string) *inventory.Inventory {
	t.Helper()
	b, err := os.ReadFile(status)
	if err != nil {
		t.Fatal(err)
	}
	pkgs, err := dpkg.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	for i := range pkgs {
		pkgs[i].FoundBy = "dpkg"
		pkgs[i].Locations = []inventory.Location{{Path: "/var/lib/dpkg/status"}}
		pkgs[i].ID = inventory.StableID(&pkgs[i])
	}
	return &inventory.Inventory{
		Distro:   &inventory.Distro{ID: "debian", VersionID: "12", Codename: "bookworm"},
		Packages: pkgs,
	}
}

// readPairs reads a golden debian-changelog-cves table: binary_pkg,
// installed_version, fixed_in_version, cves (comma-separated).
func readPairs(t testing.TB, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	seen := map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		cols := strings.Split(sc.Text(), "\t")
		if len(cols) < 4 || cols[0] == "binary_pkg" {
			continue
		}
		for _, cve := range strings.Split(cols[3], ",") {
			if cve = strings.TrimSpace(cve); cve != "" {
				seen[cols[0]+" "+cve] = true
			}
		}
	}
	return sortedKeys(seen)
}

func findingPairs(fs []inventory.Finding) []string {
	seen := map[string]bool{}
	for _, f := range fs {
		seen[f.PackageName+" "+f.ID] = true
	}
	return sortedKeys(seen)
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func countCVEs(pairs []string) int {
	cves := map[string]bool{}
	for _, p := range pairs {
		_, cve, _ := strings.Cut(p, " ")
		cves[cve] = true
	}
	return len(cves)
}

// TestDebianChangelogAccuracy is the Debian bar: with only the
// changelog-derived records imported, the downgraded bookworm image must
// report exactly its 181 (binary package, CVE) pairs (109 CVEs), and the
// minbase image exactly its 22 (16 CVEs).
func TestDebianChangelogAccuracy(t *testing.T) {
	data := imagetest.SharedData(t)
	db := newMemDB(loadRecords(t, filepath.Join(data, "osv", "debian12-changelog-derived"))...)
	tests := []struct {
		name, image, golden string
		pairs, cves         int
	}{
		{"downgraded", "debian-bookworm-downgraded", "downgraded-fixed-later-cves.tsv", 181, 109},
		{"minbase", "debian-bookworm-minbase", "minbase-fixed-later-cves.tsv", 22, 16},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv := debianInventory(t, filepath.Join(data, "pkgdb", tt.image, "var", "lib", "dpkg", "status"))
			want := readPairs(t, filepath.Join(data, "golden", "debian-changelog-cves", tt.golden))
			if len(want) != tt.pairs || countCVEs(want) != tt.cves {
				t.Fatalf("golden has %d pairs, %d CVEs; the issue says %d, %d", len(want), countCVEs(want), tt.pairs, tt.cves)
			}
			fs, notCovered, err := Match(context.Background(), inv, db, Options{Warn: func(s string) { t.Error("warning:", s) }})
			if err != nil {
				t.Fatal(err)
			}
			if len(notCovered) != 0 {
				t.Errorf("not covered: %+v", notCovered)
			}
			got := findingPairs(fs)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("(binary package, CVE) pairs (-golden +matched):\n%s", diff)
			}
			if len(fs) != len(got) {
				t.Errorf("%d findings for %d pairs: a pair was reported twice", len(fs), len(got))
			}
			for _, f := range fs {
				if f.Status != inventory.StatusFixed || len(f.FixedVersions) == 0 || f.Ecosystem != "Debian:12" ||
					!strings.HasPrefix(f.ID, "CVE-") || len(f.Advisories) == 0 || f.Location.Path == "" {
					t.Errorf("finding %s %s: %+v", f.PackageName, f.ID, f)
					break
				}
			}
			t.Logf("%s: %d findings, %d (binary package, CVE) pairs, %d CVEs", tt.name, len(fs), len(got), countCVEs(got))
		})
	}
}
