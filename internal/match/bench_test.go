package match

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/seawall-dev/seawall/internal/imagetest"
)

// BenchmarkMatch times matching the downgraded Debian bookworm image's
// 107 packages against the changelog-derived Debian records (an in-memory
// database, so the number is matching alone; the lead's end-to-end
// benchmark adds the real database's lookups).
func BenchmarkMatch(b *testing.B) {
	data := imagetest.SharedData(b)
	db := newMemDB(loadRecords(b, filepath.Join(data, "osv", "debian12-changelog-derived"))...)
	inv := debianInventory(b, filepath.Join(data, "pkgdb", "debian-bookworm-downgraded", "var", "lib", "dpkg", "status"))
	b.ReportAllocs()
	for b.Loop() {
		fs, _, err := Match(context.Background(), inv, db, Options{})
		if err != nil || len(fs) != 181 {
			b.Fatalf("%d findings, %v", len(fs), err)
		}
	}
}

// BenchmarkMatchGo times the Go module and toolchain queries of the osv.dev
// table against the whole Go vulnerability database (4,291 records).
func BenchmarkMatchGo(b *testing.B) {
	data := imagetest.SharedData(b)
	db := newMemDB(loadRecords(b, filepath.Join(data, "osv", "go-vulndb", "data", "osv"))...)
	rows := onlyEcosystem(readQueryRows(b, filepath.Join(data, "golden", "osv-api-querybatch", "osv-scanner-cassettes.querybatch.tsv")), "Go")
	inv := queriesInventory(rows)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := Match(context.Background(), inv, db, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
