package severity

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/seawall-dev/seawall/internal/inventory"
	"github.com/seawall-dev/seawall/internal/osv"
)

// Published examples with the scores their publishers give.
func TestScoreKnownVectors(t *testing.T) {
	tests := []struct {
		name   string
		vector string
		want   float64
		typ    string
	}{
		// CVSS v2.0 guide, section 3.3 (worked examples).
		{"v2 guide CVE-2002-0392", "AV:N/AC:L/Au:N/C:N/I:N/A:C", 7.8, osv.SeverityCVSSv2},
		{"v2 guide CVE-2003-0818", "AV:N/AC:L/Au:N/C:C/I:C/A:C", 10.0, osv.SeverityCVSSv2},
		{"v2 guide CVE-2003-0062", "AV:L/AC:H/Au:N/C:C/I:C/A:C", 6.2, osv.SeverityCVSSv2},
		// NVD, v2.
		{"NVD Heartbleed v2", "AV:N/AC:L/Au:N/C:P/I:N/A:N", 5.0, osv.SeverityCVSSv2},
		{"NVD Log4Shell v2", "AV:N/AC:M/Au:N/C:C/I:C/A:C", 9.3, osv.SeverityCVSSv2},
		{"NVD v2 in parentheses", "(AV:N/AC:L/Au:N/C:P/I:N/A:N)", 5.0, osv.SeverityCVSSv2},
		{"v2 with temporal metrics", "AV:N/AC:L/Au:N/C:P/I:N/A:N/E:U/RL:OF/RC:C", 5.0, osv.SeverityCVSSv2},
		// CVSS v3.1 examples document (FIRST).
		{"v3.1 examples CVE-2013-1937", "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", 6.1, osv.SeverityCVSSv3},
		{"v3.1 examples CVE-2013-0375", "CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:L/I:L/A:N", 6.4, osv.SeverityCVSSv3},
		{"v3.1 examples CVE-2014-3566", "CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:L/I:N/A:N", 3.1, osv.SeverityCVSSv3},
		{"v3.1 examples CVE-2012-1516", "CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:H/I:H/A:H", 9.9, osv.SeverityCVSSv3},
		{"v3.1 examples CVE-2009-0783", "CVSS:3.1/AV:L/AC:L/PR:H/UI:N/S:U/C:L/I:L/A:L", 4.2, osv.SeverityCVSSv3},
		{"v3.1 examples CVE-2014-0160", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N", 7.5, osv.SeverityCVSSv3},
		{"v3.1 examples CVE-2014-6271", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8, osv.SeverityCVSSv3},
		{"v3.1 examples CVE-2008-1447", "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:C/C:N/I:H/A:N", 6.8, osv.SeverityCVSSv3},
		{"v3.1 examples CVE-2014-2005", "CVSS:3.1/AV:P/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 6.8, osv.SeverityCVSSv3},
		{"v3.1 examples CVE-2013-6014", "CVSS:3.1/AV:A/AC:L/PR:N/UI:N/S:C/C:H/I:N/A:H", 9.3, osv.SeverityCVSSv3},
		{"NVD Log4Shell v3.1", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", 10.0, osv.SeverityCVSSv3},
		{"v3.1 with temporal metrics", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:U/RL:O/RC:U", 9.8, osv.SeverityCVSSv3},
		{"v3.0 examples CVE-2013-1937", "CVSS:3.0/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", 6.1, osv.SeverityCVSSv3},
		{"v3.0 zero impact", "CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N", 0, osv.SeverityCVSSv3},
		// CVSS v4.0: the specification's highest vector, and vectors
		// checked in FIRST's calculator.
		{"v4 all high", "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H", 10.0, osv.SeverityCVSSv4},
		{"v4 vulnerable system high", "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", 9.3, osv.SeverityCVSSv4},
		{"v4 osv-schema example", "CVSS:4.0/AV:N/AC:L/AT:N/PR:H/UI:N/VC:L/VI:L/VA:N/SC:N/SI:N/SA:N", 5.1, osv.SeverityCVSSv4},
		{"v4 no impact", "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:N/SC:N/SI:N/SA:N", 0, osv.SeverityCVSSv4},
		{"v4 FIRST calculator 6.1", "CVSS:4.0/AV:A/AC:L/AT:P/PR:N/UI:N/VC:H/VI:L/VA:L/SC:N/SI:N/SA:N", 6.1, osv.SeverityCVSSv4},
		// An x.x5 tie: 8.6 in the reference calculator since its 2024-11
		// rounding fix; go-cvss v0.6.4 says 8.5.
		{"v4 rounding tie", "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:P/VC:H/VI:L/VA:N/SC:H/SI:H/SA:H", 8.6, osv.SeverityCVSSv4},
		{"v4 threat and supplemental metrics ignored", "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/E:U/CR:L/S:P/U:Red", 9.3, osv.SeverityCVSSv4},
		{"surrounding space", "  CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N\n", 7.5, osv.SeverityCVSSv3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, typ, err := Score(tt.vector)
			if err != nil {
				t.Fatalf("Score(%q): %v", tt.vector, err)
			}
			if got != tt.want || typ != tt.typ {
				t.Errorf("Score(%q) = %v, %s; want %v, %s", tt.vector, got, typ, tt.want, tt.typ)
			}
		})
	}
}

// Vectors with the scores NVD and vendors published for them, as recorded
// in trivy's integration goldens (see testdata/README.md).
func TestScorePublished(t *testing.T) {
	f, err := os.Open(filepath.Join("testdata", "published-scores.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		vector, want, ok := strings.Cut(line, "\t")
		w, err := strconv.ParseFloat(want, 64)
		if !ok || err != nil {
			t.Fatalf("bad line %q", line)
		}
		got, _, err := Score(vector)
		if err != nil || got != w {
			t.Errorf("Score(%q) = %v, %v; published %v", vector, got, err, w)
		}
		n++
	}
	if n < 40 {
		t.Fatalf("only %d published scores read", n)
	}
}

// Every base vector of every version against the scores of an independent
// implementation, the metaeffekt universal CVSS calculator (see
// testdata/README.md): 729 v2.0, 2,592 v3.0, 2,592 v3.1 and 104,976 v4.0
// vectors.
func TestScoreAllBaseVectors(t *testing.T) {
	want := readReference(t)
	vectors := allBaseVectors()
	if len(want) != len(vectors) {
		t.Fatalf("reference has %d scores for %d vectors", len(want), len(vectors))
	}
	bad := 0
	for i, v := range vectors {
		got, _, err := Score(v)
		if err != nil || math.Round(got*10) != float64(want[i]) {
			bad++
			if bad <= 10 {
				t.Errorf("Score(%q) = %v, %v; reference %.1f", v, got, err, float64(want[i])/10)
			}
		}
	}
	if bad > 0 {
		t.Errorf("%d of %d base vectors differ from the reference", bad, len(vectors))
	}
}

func readReference(t *testing.T) []byte {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "base-scores.bin.gz"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// allBaseVectors enumerates every base vector in the order the reference
// file keeps its scores.
func allBaseVectors() []string {
	var out []string
	var walk func(prefix string, metrics [][2]string, values [][]string)
	walk = func(prefix string, names [][2]string, values [][]string) {
		if len(names) == 0 {
			out = append(out, prefix)
			return
		}
		for _, v := range values[0] {
			walk(prefix+names[0][0]+names[0][1]+":"+v, names[1:], values[1:])
		}
	}
	sep := func(names ...string) [][2]string {
		out := make([][2]string, len(names))
		for i, n := range names {
			out[i] = [2]string{"/", n}
		}
		out[0][0] = ""
		return out
	}
	walk("", sep("AV", "AC", "Au", "C", "I", "A"), [][]string{
		{"L", "A", "N"}, {"H", "M", "L"}, {"M", "S", "N"}, {"N", "P", "C"}, {"N", "P", "C"}, {"N", "P", "C"},
	})
	for _, ver := range []string{"3.0", "3.1"} {
		walk("CVSS:"+ver+"/", sep("AV", "AC", "PR", "UI", "S", "C", "I", "A"), [][]string{
			{"N", "A", "L", "P"}, {"L", "H"}, {"N", "L", "H"}, {"N", "R"}, {"U", "C"}, {"H", "L", "N"}, {"H", "L", "N"}, {"H", "L", "N"},
		})
	}
	hln := []string{"H", "L", "N"}
	walk("CVSS:4.0/", sep("AV", "AC", "AT", "PR", "UI", "VC", "VI", "VA", "SC", "SI", "SA"), [][]string{
		{"N", "A", "L", "P"}, {"L", "H"}, {"N", "P"}, {"N", "L", "H"}, {"N", "P", "A"}, hln, hln, hln, hln, hln, hln,
	})
	return out
}

// TestWriteBaseVectors writes the vectors of allBaseVectors, one a line,
// to the file SEAWALL_WRITE_CVSS_VECTORS names, for regenerating the
// reference (testdata/README.md says how).
func TestWriteBaseVectors(t *testing.T) {
	path := os.Getenv("SEAWALL_WRITE_CVSS_VECTORS")
	if path == "" {
		t.Skip("set SEAWALL_WRITE_CVSS_VECTORS to regenerate the reference input")
	}
	if err := os.WriteFile(path, []byte(strings.Join(allBaseVectors(), "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestScoreInvalid(t *testing.T) {
	for _, v := range []string{
		"",
		"CVSS:3.1/",
		"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H",         // missing A
		"CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",     // bad value
		"CVSS:3.2/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",     // unknown version
		"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H", // missing subsequent system
		"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/E:Q",
		"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/CR:H/E:A", // out of order
		"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/E:A/E:A",  // repeated
		"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:S/SA:N",          // S is for MSI only
		"AV:N/AC:L/Au:N/C:P/I:N",
		"high",
		strings.Repeat("CVSS:3.1/AV:N/", 100),
	} {
		if s, typ, err := Score(v); !errors.Is(err, ErrInvalidVector) {
			t.Errorf("Score(%q) = %v, %q, %v; want ErrInvalidVector", v, s, typ, err)
		}
	}
}

func TestLevel(t *testing.T) {
	tests := []struct {
		typ   string
		score float64
		want  inventory.Severity
	}{
		{osv.SeverityCVSSv3, 0, inventory.SeverityLow},
		{osv.SeverityCVSSv3, 0.1, inventory.SeverityLow},
		{osv.SeverityCVSSv3, 3.9, inventory.SeverityLow},
		{osv.SeverityCVSSv3, 4.0, inventory.SeverityMedium},
		{osv.SeverityCVSSv3, 6.9, inventory.SeverityMedium},
		{osv.SeverityCVSSv3, 7.0, inventory.SeverityHigh},
		{osv.SeverityCVSSv3, 8.9, inventory.SeverityHigh},
		{osv.SeverityCVSSv3, 9.0, inventory.SeverityCritical},
		{osv.SeverityCVSSv4, 10, inventory.SeverityCritical},
		{osv.SeverityCVSSv4, 6.9, inventory.SeverityMedium},
		{osv.SeverityCVSSv2, 3.9, inventory.SeverityLow},
		{osv.SeverityCVSSv2, 4.0, inventory.SeverityMedium},
		{osv.SeverityCVSSv2, 7.0, inventory.SeverityHigh},
		{osv.SeverityCVSSv2, 10, inventory.SeverityHigh},
	}
	for _, tt := range tests {
		if got := Level(tt.typ, tt.score); got != tt.want {
			t.Errorf("Level(%s, %v) = %v, want %v", tt.typ, tt.score, got, tt.want)
		}
	}
}

func TestPick(t *testing.T) {
	const (
		v2  = "AV:N/AC:L/Au:N/C:P/I:N/A:N"
		v31 = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"
		v30 = "CVSS:3.0/AV:N/AC:H/PR:N/UI:R/S:U/C:L/I:N/A:N"
		v4  = "CVSS:4.0/AV:N/AC:L/AT:N/PR:H/UI:N/VC:L/VI:L/VA:N/SC:N/SI:N/SA:N"
	)
	sev := func(typ, score string) []osv.Severity { return []osv.Severity{{Type: typ, Score: score}} }
	raw := func(s string) json.RawMessage { return json.RawMessage(s) }
	rec := func(v *osv.Vulnerability, aff ...*osv.Affected) Record { return Record{Vuln: v, Affected: aff} }
	tests := []struct {
		name string
		recs []Record
		want Result
	}{
		{"nothing", []Record{rec(&osv.Vulnerability{ID: "X"})}, Result{Source: SourceNone}},
		{"no records", nil, Result{Source: SourceNone}},
		{
			"v4 beats v3 of the same record",
			[]Record{rec(&osv.Vulnerability{Severity: []osv.Severity{{Type: "CVSS_V3", Score: v31}, {Type: "CVSS_V4", Score: v4}}})},
			Result{Severity: inventory.SeverityMedium, Source: SourceCVSSv4, Score: 5.1, Vector: v4},
		},
		{
			"v4 of a later record beats v3 of the first",
			[]Record{rec(&osv.Vulnerability{Severity: sev("CVSS_V3", v31)}), rec(&osv.Vulnerability{Severity: sev("CVSS_V4", v4)})},
			Result{Severity: inventory.SeverityMedium, Source: SourceCVSSv4, Score: 5.1, Vector: v4},
		},
		{
			"affected entry before the record",
			[]Record{rec(&osv.Vulnerability{Severity: sev("CVSS_V3", v31)}, &osv.Affected{Severity: sev("CVSS_V3", v30)})},
			Result{Severity: inventory.SeverityLow, Source: SourceCVSSv3, Score: 3.1, Vector: v30},
		},
		{
			"first record wins a tie",
			[]Record{rec(&osv.Vulnerability{Severity: sev("CVSS_V3", v30)}), rec(&osv.Vulnerability{Severity: sev("CVSS_V3", v31)})},
			Result{Severity: inventory.SeverityLow, Source: SourceCVSSv3, Score: 3.1, Vector: v30},
		},
		{
			"invalid v4 falls back to v2",
			[]Record{rec(&osv.Vulnerability{Severity: []osv.Severity{{Type: "CVSS_V4", Score: "CVSS:4.0/AV:N"}, {Type: "CVSS_V2", Score: v2}}})},
			Result{Severity: inventory.SeverityMedium, Source: SourceCVSSv2, Score: 5.0, Vector: v2},
		},
		{
			"the vector's own version counts",
			[]Record{rec(&osv.Vulnerability{Severity: sev("CVSS_V3", v4)})},
			Result{Severity: inventory.SeverityMedium, Source: SourceCVSSv4, Score: 5.1, Vector: v4},
		},
		{
			"GitHub database_specific",
			[]Record{rec(&osv.Vulnerability{DatabaseSpecific: raw(`{"severity":"MODERATE","cwe_ids":[]}`)})},
			Result{Severity: inventory.SeverityMedium, Source: SourceDatabase},
		},
		{
			"invalid vector falls back to database_specific",
			[]Record{rec(&osv.Vulnerability{Severity: sev("CVSS_V3", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:Z"), DatabaseSpecific: raw(`{"severity":"HIGH"}`)})},
			Result{Severity: inventory.SeverityHigh, Source: SourceDatabase},
		},
		{
			"affected database_specific",
			[]Record{rec(&osv.Vulnerability{}, &osv.Affected{DatabaseSpecific: raw(`{"severity":"critical"}`)})},
			Result{Severity: inventory.SeverityCritical, Source: SourceDatabase},
		},
		{
			"unknown word skipped",
			[]Record{rec(&osv.Vulnerability{DatabaseSpecific: raw(`{"severity":"spicy"}`)}, &osv.Affected{EcosystemSpecific: raw(`{"urgency":"low"}`)})},
			Result{Severity: inventory.SeverityLow, Source: SourceEcosystem},
		},
		{
			"Ubuntu priority",
			[]Record{rec(&osv.Vulnerability{Severity: sev("Ubuntu", "high")})},
			Result{Severity: inventory.SeverityHigh, Source: SourceEcosystem},
		},
		{
			"Debian urgency not yet assigned is nothing",
			[]Record{rec(&osv.Vulnerability{}, &osv.Affected{EcosystemSpecific: raw(`{"urgency":"not yet assigned"}`)})},
			Result{Source: SourceNone},
		},
		{
			"malformed JSON is nothing",
			[]Record{rec(&osv.Vulnerability{DatabaseSpecific: raw(`{"severity":`)}, &osv.Affected{EcosystemSpecific: raw(`[1]`)})},
			Result{Source: SourceNone},
		},
		{"nil record", []Record{{}}, Result{Source: SourceNone}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, Pick(tt.recs)); diff != "" {
				t.Errorf("Pick (-want +got):\n%s", diff)
			}
		})
	}
}

func FuzzScore(f *testing.F) {
	for _, v := range []string{
		"AV:N/AC:L/Au:N/C:P/I:N/A:N",
		"(AV:N/AC:L/Au:N/C:P/I:N/A:N)",
		"CVSS:2.0/AV:N/AC:L/Au:N/C:P/I:N/A:N/E:U/RL:OF/RC:C/CDP:H/TD:H/CR:H/IR:H/AR:H",
		"CVSS:3.0/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N",
		"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:U/RL:O/RC:U/CR:H/IR:H/AR:H/MAV:N/MAC:L/MPR:N/MUI:N/MS:C/MC:H/MI:H/MA:H",
		"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
		"CVSS:4.0/AV:P/AC:H/AT:P/PR:L/UI:P/VC:N/VI:L/VA:H/SC:N/SI:L/SA:N/E:U/CR:H/IR:H/AR:H/MAV:L/MAC:H/MAT:P/MPR:L/MUI:P/MVC:L/MVI:L/MVA:L/MSC:L/MSI:L/MSA:S/S:N/AU:N/R:U/V:D/RE:L/U:Clear",
		"CVSS:4.0/",
		"CVSS:3.1/AV:N/AV:N",
	} {
		f.Add(v)
	}
	f.Fuzz(func(t *testing.T, v string) {
		s, typ, err := Score(v)
		if err != nil {
			if !errors.Is(err, ErrInvalidVector) {
				t.Fatalf("Score(%q) error %v does not wrap ErrInvalidVector", v, err)
			}
			return
		}
		if s < 0 || s > 10 || math.IsNaN(s) || math.Abs(s*10-math.Round(s*10)) > 1e-9 {
			t.Fatalf("Score(%q) = %v out of range or not one decimal", v, s)
		}
		switch typ {
		case osv.SeverityCVSSv2, osv.SeverityCVSSv3, osv.SeverityCVSSv4:
		default:
			t.Fatalf("Score(%q) type %q", v, typ)
		}
		_ = Pick([]Record{{Vuln: &osv.Vulnerability{Severity: []osv.Severity{{Type: typ, Score: v}}}}})
	})
}
