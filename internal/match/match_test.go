package match

import (
	"context"
	"encoding/json"
	"errors"
	"math/rand"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/seawall-dev/seawall/internal/inventory"
	"github.com/seawall-dev/seawall/internal/osv"
)

func mustRecords(t *testing.T, js string) []*osv.Vulnerability {
	t.Helper()
	recs, err := decodeRecords([]byte(js))
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

// The Debian bar on the fixture's subset: glibc, curl and expat records
// from the changelog-derived data and the downgraded image's packages of
// those sources (plus two that nothing affects).
func TestDebianSmall(t *testing.T) {
	db := newMemDB(loadRecords(t, filepath.Join("testdata", "debian", "records.json"))...)
	inv := debianInventory(t, filepath.Join("testdata", "debian", "status"))
	want := readPairs(t, filepath.Join("testdata", "debian", "fixed-later-cves.tsv"))
	fs, notCovered, err := Match(context.Background(), inv, db, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, findingPairs(fs)); diff != "" {
		t.Errorf("(binary package, CVE) pairs (-golden +matched):\n%s", diff)
	}
	if len(notCovered) != 0 {
		t.Errorf("not covered: %+v", notCovered)
	}
	// libc6 and libc-bin are two binaries of glibc: each gets the finding.
	var libc6, libcBin int
	for _, f := range fs {
		switch f.PackageName {
		case "libc6":
			libc6++
		case "libc-bin":
			libcBin++
		}
	}
	if libc6 == 0 || libc6 != libcBin {
		t.Errorf("libc6 has %d findings, libc-bin %d; both come from glibc", libc6, libcBin)
	}
}

// The Go bar on the fixture's subset: every GO record of runc and x/sys,
// and the queries for them. Every ID osv.dev returned that a fixture
// record has is found; the only extra is the withdrawn record.
func TestGoSmall(t *testing.T) {
	recs := loadRecords(t, filepath.Join("testdata", "go", "records.json"))
	db := newMemDB(recs...)
	staged := map[string]bool{}
	for _, r := range recs {
		staged[r.ID] = true
		for _, a := range r.Aliases {
			staged[a] = true
		}
	}
	rows := readQueryRows(t, filepath.Join("testdata", "go", "querybatch.tsv"))
	if len(rows) != 2 {
		t.Fatalf("%d rows", len(rows))
	}
	for _, r := range rows {
		p := packageFor(r.eco, r.name, r.version)
		fs, _, err := Match(context.Background(), &inventory.Inventory{Packages: []inventory.Package{p}}, db, Options{})
		if err != nil {
			t.Fatal(err)
		}
		found := map[string]bool{}
		matched := map[string]*inventory.Finding{}
		for i, f := range fs {
			for _, id := range append(append([]string{f.ID}, f.Aliases...), f.Advisories...) {
				found[id] = true
			}
			for _, a := range f.Advisories {
				matched[a] = &fs[i]
			}
		}
		answered := map[string]bool{}
		gaps := 0
		for _, id := range r.ids {
			answered[id] = true
			switch {
			case !staged[id]:
				gaps++
			case !found[id]:
				t.Errorf("%s@%s: osv.dev returned %s; not found", r.name, r.version, id)
			}
		}
		for id, f := range matched {
			if !answered[id] && f.Status != inventory.StatusWithdrawn {
				t.Errorf("%s@%s: extra %s", r.name, r.version, id)
			}
		}
		t.Logf("%s@%s: osv.dev returned %d IDs, %d of them data gaps here; %d findings", r.name, r.version, len(r.ids), gaps, len(fs))
	}
}

const endToEndRecords = `[
{"id":"DEBIAN-CVE-2024-2961","modified":"2026-01-01T00:00:00Z","upstream":["CVE-2024-2961"],"summary":"iconv overflow",
 "affected":[{"package":{"ecosystem":"Debian:12","name":"glibc"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"2.36-9+deb12u6"}]}]}]},
{"id":"DSA-5678-1","modified":"2026-01-02T00:00:00Z","published":"2024-04-18T00:00:00Z","upstream":["CVE-2024-2961","CVE-2024-33599"],"summary":"glibc security update",
 "severity":[{"type":"CVSS_V3","score":"CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
 "references":[{"type":"ADVISORY","url":"https://www.debian.org/security/2024/dsa-5678"}],
 "affected":[{"package":{"ecosystem":"Debian:12","name":"glibc"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"2.36-9+deb12u7"}]}]}]},
{"id":"GO-2022-0274","modified":"2024-05-20T16:03:47Z","published":"2022-07-15T23:08:33Z","aliases":["CVE-2022-29162","GHSA-f3fp-gc8g-vw66"],"summary":"Insecure inheritable capabilities in runc",
 "affected":[{"package":{"ecosystem":"Go","name":"github.com/opencontainers/runc"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"1.1.2"}]}]}]},
{"id":"GHSA-f3fp-gc8g-vw66","modified":"2024-05-20T16:03:47Z","aliases":["CVE-2022-29162"],"summary":"runc: default inheritable capabilities",
 "database_specific":{"severity":"MODERATE"},
 "references":[{"type":"WEB","url":"https://github.com/opencontainers/runc/security/advisories/GHSA-f3fp-gc8g-vw66"}],
 "affected":[{"package":{"ecosystem":"Go","name":"github.com/opencontainers/runc"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"1.1.2"}]}]}]},
{"id":"GO-2025-3543","modified":"2025-03-26T18:45:50Z","withdrawn":"2025-03-26T18:45:50Z","summary":"withdrawn duplicate",
 "affected":[{"package":{"ecosystem":"Go","name":"github.com/opencontainers/runc"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"1.2.0"}]}]}]},
{"id":"RUSTSEC-2099-1","modified":"2026-01-01T00:00:00Z","summary":"bad range",
 "affected":[{"package":{"ecosystem":"crates.io","name":"Time"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"not a version!"}]}]}]}
]`

func TestMatchEndToEnd(t *testing.T) {
	db := newMemDB(mustRecords(t, endToEndRecords)...)
	layer := inventory.Location{Path: "/var/lib/dpkg/status", LayerDiffID: "sha256:aaa", LayerIndex: 1}
	inv := &inventory.Inventory{
		Distro: &inventory.Distro{ID: "debian", VersionID: "12"},
		Packages: []inventory.Package{
			{ID: "p-libc6", Type: inventory.TypeDeb, Name: "libc6", Version: "2.36-9+deb12u4", SourceName: "glibc", SourceVersion: "2.36-9+deb12u4",
				PURL: "pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?distro=debian-12", Locations: []inventory.Location{layer, {Path: "/other"}}},
			{ID: "p-runc", Type: inventory.TypeGolang, Name: "github.com/opencontainers/runc", Version: "v1.0.1",
				Locations: []inventory.Location{{Path: "/usr/bin/runc", LayerIndex: 2}}},
			{ID: "p-time", Type: inventory.TypeCargo, Name: "time", Version: "0.1.0"},
			{ID: "p-lodash", Type: inventory.TypeNPM, Name: "lodash", Version: "4.17.0"},
			{ID: "p-local", Type: inventory.TypeCargo, Name: "mine", Version: "0.1.0", Metadata: map[string]string{"source": "local"}},
			{ID: "p-devel", Type: inventory.TypeGolang, Name: "example.com/tool", Version: "(devel)"},
		},
	}
	var warnings []string
	fs, notCovered, err := Match(context.Background(), inv, db, Options{Warn: func(s string) { warnings = append(warnings, s) }})
	if err != nil {
		t.Fatal(err)
	}
	want := []inventory.Finding{
		{
			ID: "CVE-2024-2961", Aliases: []string{"DEBIAN-CVE-2024-2961", "DSA-5678-1"}, Kind: inventory.KindVulnerability,
			Title:    "iconv overflow",
			Severity: inventory.SeverityHigh, SeveritySource: "CVSS_V3", CVSSScore: 8.1, CVSSVector: "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H",
			PackageID: "p-libc6", PackageName: "libc6", PackageType: "deb", PURL: "pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?distro=debian-12",
			InstalledVersion: "2.36-9+deb12u4", FixedVersions: []string{"2.36-9+deb12u6", "2.36-9+deb12u7"}, Status: inventory.StatusFixed,
			Ecosystem: "Debian:12", Location: layer, Advisories: []string{"DEBIAN-CVE-2024-2961", "DSA-5678-1"},
			References: []string{"https://www.debian.org/security/2024/dsa-5678"},
			Published:  time.Date(2024, 4, 18, 0, 0, 0, 0, time.UTC), Modified: time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC),
		},
		{
			ID: "CVE-2022-29162", Aliases: []string{"GHSA-f3fp-gc8g-vw66", "GO-2022-0274"}, Kind: inventory.KindVulnerability,
			Title:    "Insecure inheritable capabilities in runc",
			Severity: inventory.SeverityMedium, SeveritySource: "database_specific",
			PackageID: "p-runc", PackageName: "github.com/opencontainers/runc", PackageType: "golang",
			InstalledVersion: "1.0.1", FixedVersions: []string{"1.1.2"}, Status: inventory.StatusFixed,
			Ecosystem: "Go", Location: inventory.Location{Path: "/usr/bin/runc", LayerIndex: 2}, Advisories: []string{"GHSA-f3fp-gc8g-vw66", "GO-2022-0274"},
			References: []string{"https://github.com/opencontainers/runc/security/advisories/GHSA-f3fp-gc8g-vw66"},
			Published:  time.Date(2022, 7, 15, 23, 8, 33, 0, time.UTC), Modified: time.Date(2024, 5, 20, 16, 3, 47, 0, time.UTC),
		},
		{
			ID: "GO-2025-3543", Kind: inventory.KindVulnerability, Title: "withdrawn duplicate",
			Severity: inventory.SeverityUnknown, SeveritySource: "none",
			PackageID: "p-runc", PackageName: "github.com/opencontainers/runc", PackageType: "golang",
			InstalledVersion: "1.0.1", FixedVersions: []string{"1.2.0"}, Status: inventory.StatusWithdrawn,
			Ecosystem: "Go", Location: inventory.Location{Path: "/usr/bin/runc", LayerIndex: 2}, Advisories: []string{"GO-2025-3543"},
			Modified: time.Date(2025, 3, 26, 18, 45, 50, 0, time.UTC),
		},
	}
	if diff := cmp.Diff(want, fs); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
	wantCov := []inventory.Coverage{
		{Ecosystem: "Go", Packages: 1, Reason: "installed version cannot be ordered in this ecosystem; only exact version lists were checked"},
		{Ecosystem: "crates.io", Packages: 1, Reason: "crate not from crates.io (a local, git or other-registry crate); crates.io advisories do not apply"},
		{Ecosystem: "npm", Packages: 1, Reason: "the vulnerability database has no npm advisories"},
	}
	if diff := cmp.Diff(wantCov, notCovered); diff != "" {
		t.Errorf("not covered (-want +got):\n%s", diff)
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], `RUSTSEC-2099-1, affected crates.io/Time: fixed "not a version!" cannot be ordered as SEMVER`) {
		t.Errorf("warnings: %q", warnings)
	}

	// The same inventory in another order gives the same answer.
	shuffled := *inv
	shuffled.Packages = append([]inventory.Package(nil), inv.Packages...)
	rand.New(rand.NewSource(1)).Shuffle(len(shuffled.Packages), func(i, j int) {
		shuffled.Packages[i], shuffled.Packages[j] = shuffled.Packages[j], shuffled.Packages[i]
	})
	again, cov2, err := Match(context.Background(), &shuffled, db, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(fs, again); diff != "" {
		t.Errorf("findings depend on package order (-first +shuffled):\n%s", diff)
	}
	if diff := cmp.Diff(notCovered, cov2); diff != "" {
		t.Errorf("coverage depends on package order (-first +shuffled):\n%s", diff)
	}
	if _, err := json.Marshal(fs); err != nil {
		t.Fatal(err)
	}
}

type failingDB struct{ memDB }

func (failingDB) Lookup(context.Context, string, string) ([]*osv.Vulnerability, error) {
	return nil, errors.New("disk on fire")
}

func TestMatchErrors(t *testing.T) {
	inv := &inventory.Inventory{Packages: []inventory.Package{{Type: inventory.TypeNPM, Name: "a", Version: "1.0.0"}}}
	db := &failingDB{*newMemDB(&osv.Vulnerability{ID: "X", Affected: []osv.Affected{{Package: osv.Package{Ecosystem: "npm", Name: "a"}}}})}
	if _, _, err := Match(context.Background(), inv, db, Options{}); err == nil || !strings.Contains(err.Error(), "disk on fire") {
		t.Errorf("database error: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := Match(ctx, inv, newMemDB(), Options{}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
	if fs, cov, err := Match(context.Background(), nil, newMemDB(), Options{}); fs != nil || cov != nil || err != nil {
		t.Errorf("nil inventory: %v %v %v", fs, cov, err)
	}
}

// Hostile records never crash matching.
func TestMatchHostileRecords(t *testing.T) {
	recs := []*osv.Vulnerability{
		nil,
		{ID: "EMPTY"},
		{ID: "NO-EVENTS", Affected: []osv.Affected{{Package: osv.Package{Ecosystem: "npm", Name: "a"}, Ranges: []osv.Range{{Type: "SEMVER"}}}}},
		{ID: "LIMIT-ONLY", Affected: []osv.Affected{{Package: osv.Package{Ecosystem: "npm", Name: "a"}, Ranges: []osv.Range{{Type: "SEMVER", Events: []osv.Event{{Limit: "*"}}}}}}},
		{ID: "HUGE", Affected: []osv.Affected{{Package: osv.Package{Ecosystem: "npm", Name: "a"}, Versions: []string{strings.Repeat("9", 1<<16)},
			Ranges: []osv.Range{{Type: "SEMVER", Events: []osv.Event{{Introduced: strings.Repeat("1.", 5000) + "0"}}}}}}},
		{ID: "SELF-ALIAS", Aliases: []string{"SELF-ALIAS", "CYCLE"}, Upstream: []string{"CYCLE", "SELF-ALIAS"},
			Affected: []osv.Affected{{Package: osv.Package{Ecosystem: "npm", Name: "a"}, Ranges: []osv.Range{{Type: "SEMVER", Events: []osv.Event{{Introduced: "0"}}}}}}},
		{ID: "BAD-SEVERITY", Severity: []osv.Severity{{Type: "CVSS_V3", Score: "CVSS:3.1/AV:N/AV:N/AV:N"}, {Type: "CVSS_V4", Score: strings.Repeat("x", 10000)}},
			DatabaseSpecific: json.RawMessage(`{"severity": 7}`),
			Affected: []osv.Affected{{Package: osv.Package{Ecosystem: "npm", Name: "a"}, EcosystemSpecific: json.RawMessage(`"x"`),
				Ranges: []osv.Range{{Type: "SEMVER", Events: []osv.Event{{Introduced: "0"}}}}}}},
	}
	db := newMemDB()
	for _, r := range recs {
		if r != nil {
			db.add(r)
		}
	}
	db.byKey[[2]string{"npm", "a"}] = append(db.byKey[[2]string{"npm", "a"}], nil)
	inv := &inventory.Inventory{Packages: []inventory.Package{{Type: inventory.TypeNPM, Name: "a", Version: "1.0.0"}}}
	fs, _, err := Match(context.Background(), inv, db, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for _, f := range fs {
		ids[f.ID] = true
		for _, a := range f.Advisories {
			ids[a] = true
		}
	}
	for _, id := range []string{"SELF-ALIAS", "BAD-SEVERITY"} {
		if !ids[id] {
			t.Errorf("%s not matched: %+v", id, fs)
		}
	}
	for _, id := range []string{"EMPTY", "NO-EVENTS", "LIMIT-ONLY", "HUGE"} {
		if ids[id] {
			t.Errorf("%s matched", id)
		}
	}
}
