package match

import (
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/seawall-dev/seawall/internal/osv"
)

func vuln(id string, aliases, upstream []string) *hit {
	return &hit{vuln: &osv.Vulnerability{ID: id, Aliases: aliases, Upstream: upstream}}
}

// describe renders groups as "primary: record ids" lines, sorted.
func describe(gs []*group) []string {
	var out []string
	for _, g := range gs {
		var ids []string
		for _, h := range g.hits {
			ids = append(ids, h.vuln.ID)
		}
		out = append(out, g.primary()+": "+strings.Join(ids, " "))
	}
	sort.Strings(out)
	return out
}

func TestGroupHits(t *testing.T) {
	tests := []struct {
		name string
		hits []*hit
		want []string
	}{
		{
			name: "Go record with its GHSA and CVE",
			hits: []*hit{vuln("GO-2022-0274", []string{"CVE-2022-29162", "GHSA-f3fp-gc8g-vw66"}, nil), vuln("GHSA-f3fp-gc8g-vw66", []string{"CVE-2022-29162"}, nil)},
			want: []string{"CVE-2022-29162: GO-2022-0274 GHSA-f3fp-gc8g-vw66"},
		},
		{
			name: "Debian record derived from one CVE",
			hits: []*hit{vuln("DEBIAN-CVE-2024-2961", nil, []string{"CVE-2024-2961"})},
			want: []string{"CVE-2024-2961: DEBIAN-CVE-2024-2961"},
		},
		{
			name: "a DSA covering two CVEs joins each, merging neither",
			hits: []*hit{
				vuln("DEBIAN-CVE-2024-1", nil, []string{"CVE-2024-1"}),
				vuln("DEBIAN-CVE-2024-2", nil, []string{"CVE-2024-2"}),
				vuln("DSA-5000-1", nil, []string{"CVE-2024-1", "CVE-2024-2"}),
			},
			want: []string{"CVE-2024-1: DEBIAN-CVE-2024-1 DSA-5000-1", "CVE-2024-2: DEBIAN-CVE-2024-2 DSA-5000-1"},
		},
		{
			name: "a DSA naming nothing else that matched stands alone",
			hits: []*hit{vuln("DSA-5000-1", nil, []string{"CVE-2024-1", "CVE-2024-2"})},
			want: []string{"DSA-5000-1: DSA-5000-1"},
		},
		{
			name: "no CVE: the ecosystem's own record before GHSA",
			hits: []*hit{vuln("GHSA-aaaa-bbbb-cccc", []string{"PYSEC-2021-98"}, nil), vuln("PYSEC-2021-98", []string{"GHSA-aaaa-bbbb-cccc"}, nil)},
			want: []string{"PYSEC-2021-98: PYSEC-2021-98 GHSA-aaaa-bbbb-cccc"},
		},
		{
			name: "two CVEs: the lowest native ID, in natural order",
			hits: []*hit{vuln("PYSEC-2021-439", []string{"CVE-2021-1", "CVE-2021-2"}, nil), vuln("PYSEC-2021-98", []string{"CVE-2021-2"}, nil)},
			want: []string{"PYSEC-2021-98: PYSEC-2021-98 PYSEC-2021-439"},
		},
		{
			name: "transitive aliases",
			hits: []*hit{vuln("A-1", []string{"B-1"}, nil), vuln("C-1", []string{"B-1"}, nil), vuln("D-1", nil, nil)},
			want: []string{"A-1: A-1 C-1", "D-1: D-1"},
		},
		{
			name: "related never joins",
			hits: []*hit{{vuln: &osv.Vulnerability{ID: "ALSA-2022:1", Related: []string{"CVE-2022-1"}}}, vuln("X-1", []string{"CVE-2022-1"}, nil)},
			want: []string{"ALSA-2022:1: ALSA-2022:1", "CVE-2022-1: X-1"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, describe(groupHits(tt.hits))); diff != "" {
				t.Errorf("groups (-want +got):\n%s", diff)
			}
			// The answer does not depend on the order records arrive in.
			rev := append([]*hit(nil), tt.hits...)
			for i, j := 0, len(rev)-1; i < j; i, j = i+1, j-1 {
				rev[i], rev[j] = rev[j], rev[i]
			}
			if diff := cmp.Diff(tt.want, describe(groupHits(rev))); diff != "" {
				t.Errorf("groups of reversed input (-want +got):\n%s", diff)
			}
		})
	}
}

func TestNaturalOrder(t *testing.T) {
	ids := []string{"PYSEC-2021-439", "GO-2022-1000", "PYSEC-2021-98", "GO-2022-0274", "CVE-2021-44228", "CVE-2021-4104", "GHSA-xvch-5gv4-984h"}
	sort.Slice(ids, func(i, j int) bool { return idLess(ids[i], ids[j]) })
	want := []string{"CVE-2021-4104", "CVE-2021-44228", "GHSA-xvch-5gv4-984h", "GO-2022-0274", "GO-2022-1000", "PYSEC-2021-98", "PYSEC-2021-439"}
	if diff := cmp.Diff(want, ids); diff != "" {
		t.Errorf("order (-want +got):\n%s", diff)
	}
}
