package match

import (
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/seawall-dev/seawall/internal/imagetest"
	"github.com/seawall-dev/seawall/internal/inventory"
)

// TestAlmaLinuxSelfConsistency checks every fixed version of the staged
// AlmaLinux advisories (the osv.dev query table has no AlmaLinux rows):
// a package installed at the same epoch and version with release "0" is
// reported by the record, with the fix among its fixed versions; and where
// the record gives the package one fixed version only, a package installed
// at that version is not reported. (A record may give one package several
// entries, one per module build, "7.3.20-1.module_el8.3.0+…" and
// "7.3.20-1.module_el8.5.0+…": OSV evaluation then reports the older build
// through the newer entry, as osv.dev does.) The installed epoch travels in
// Package.Epoch, as the rpm cataloger reports it, while the advisories
// write it into the version, or leave it out when it is 0.
func TestAlmaLinuxSelfConsistency(t *testing.T) {
	data := imagetest.SharedData(t)
	recs := loadRecords(t, filepath.Join(data, "osv", "almalinux", "advisories"))
	ecos := newEcosystems(newMemDB(recs...).Ecosystems())
	checks, bad := 0, 0
	for _, r := range recs {
		fixCount := map[string]int{}
		for _, a := range r.Affected {
			for _, rg := range a.Ranges {
				for _, e := range rg.Events {
					if e.Fixed != "" {
						fixCount[a.Package.Ecosystem+" "+a.Package.Name]++
					}
				}
			}
		}
		for _, a := range r.Affected {
			major, ok := strings.CutPrefix(a.Package.Ecosystem, "AlmaLinux:")
			if !ok {
				continue
			}
			distro := &inventory.Distro{ID: "almalinux", VersionID: major + ".9"}
			for _, rg := range a.Ranges {
				for _, e := range rg.Events {
					if e.Fixed == "" {
						continue
					}
					epoch, vr := 0, e.Fixed
					if ep, rest, ok := strings.Cut(e.Fixed, ":"); ok {
						n, err := strconv.Atoi(ep)
						if err != nil {
							t.Fatalf("%s: epoch of %q", r.ID, e.Fixed)
						}
						epoch, vr = n, rest
					}
					v, _, _ := strings.Cut(vr, "-")
					for _, c := range []struct {
						version  string
						affected bool
					}{{vr, false}, {v + "-0", true}} {
						if !c.affected && fixCount[a.Package.Ecosystem+" "+a.Package.Name] > 1 {
							continue
						}
						checks++
						// The package as the rpm cataloger reports it: the
						// epoch apart from version-release.
						p := inventory.Package{Type: inventory.TypeRPM, Name: a.Package.Name, Version: c.version, Epoch: epoch}
						tgt, u := targetFor(&p, distro, ecos, false)
						if u != nil {
							t.Fatalf("%s: not covered: %+v", r.ID, u)
						}
						in := newInstalled(tgt.ordering, tgt.version)
						hit, fixes := false, []string(nil)
						for i := range r.Affected {
							o := &r.Affected[i]
							if o.Package.Ecosystem != a.Package.Ecosystem || o.Package.Name != a.Package.Name {
								continue
							}
							ev := evaluate(o, in, func(s string) { t.Errorf("%s: warning %s", r.ID, s) })
							hit = hit || ev.affected
							fixes = append(fixes, ev.fixed...)
						}
						if hit != c.affected || (hit && !contains(fixes, e.Fixed)) {
							bad++
							if bad <= 10 {
								t.Errorf("%s %s installed %s: affected %v (fixes %v), want %v with fix %s", r.ID, a.Package.Name, tgt.version, hit, fixes, c.affected, e.Fixed)
							}
						}
					}
				}
			}
		}
	}
	t.Logf("%d records, %d checks of (record, package, version), %d failed", len(recs), checks, bad)
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
