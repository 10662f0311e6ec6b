package osv

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// testRecords lists the real records in testdata/records.
func testRecords(t testing.TB) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir("testdata/records", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files = append(files, p)
		}
		return err
	})
	if err != nil || len(files) == 0 {
		t.Fatalf("no test records: %v", err)
	}
	return files
}

func TestParseRealRecords(t *testing.T) {
	// Warnings the real records are known to raise: every other record
	// parses cleanly.
	wantWarnings := map[string][]Warning{
		"testdata/records/osv-schema/nointroduced-CVE-2023-41045.json": {{Field: "affected[0].ranges[0]", Message: "no introduced event, so by the OSV evaluation rules this range affects no version; kept"}},
		"testdata/records/pypa/PYSEC-2021-371.yaml":                    {{Field: "affected[0].ranges[0]", Message: `GIT event "195caac172690456dcdc8cc7a6ca50e05abf8182.patch" is not a full commit hash; kept`}},
	}
	for _, p := range testRecords(t) {
		t.Run(p, func(t *testing.T) {
			data, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			v, warns, err := Parse(data, p)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if diff := cmp.Diff(wantWarnings[p], warns); diff != "" {
				t.Errorf("warnings (-want +got):\n%s", diff)
			}
			// (golang/vulndb's files carry a zero modified time,
			// 0001-01-01T00:00:00Z; vuln.go.dev fills it in.)
			if v.ID == "" {
				t.Errorf("no id")
			}
			// The stored form reads back to the same record.
			raw, err := json.Marshal(v)
			if err != nil {
				t.Fatal(err)
			}
			again, _, err := Parse(raw, "again.json")
			if err != nil {
				t.Fatalf("re-parse: %v", err)
			}
			if diff := cmp.Diff(v, again); diff != "" {
				t.Errorf("round trip (-first +second):\n%s", diff)
			}
		})
	}
}

func TestParseFields(t *testing.T) {
	data, err := os.ReadFile("testdata/records/pypa/PYSEC-2021-66.yaml")
	if err != nil {
		t.Fatal(err)
	}
	v, _, err := Parse(data, "PYSEC-2021-66.yaml")
	if err != nil {
		t.Fatal(err)
	}
	// PyPA writes unquoted timestamps; they stay exact.
	if got := v.Modified.Format(time.RFC3339Nano); !strings.HasPrefix(got, "20") || v.Modified.Location() != time.UTC {
		t.Errorf("modified = %s", got)
	}
	if v.Affected[0].Package.Ecosystem != "PyPI" || v.Affected[0].Package.Name != "jinja2" {
		t.Errorf("package = %+v", v.Affected[0].Package)
	}

	data, err = os.ReadFile("testdata/records/go-vulndb/GO-2022-0969.json")
	if err != nil {
		t.Fatal(err)
	}
	v, _, err = Parse(data, "GO-2022-0969.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(v.Affected) == 0 || len(v.Affected[0].EcosystemSpecific) == 0 || !json.Valid(v.Affected[0].EcosystemSpecific) {
		t.Errorf("ecosystem_specific not kept: %s", v.Affected[0].EcosystemSpecific)
	}
	if len(v.DatabaseSpecific) == 0 {
		t.Error("database_specific not kept")
	}

	data, err = os.ReadFile("testdata/records/osv-schema/GHSA-withdrawn.osv.json")
	if err != nil {
		t.Fatal(err)
	}
	if v, _, err = Parse(data, "w.json"); err != nil || v.Withdrawn.IsZero() {
		t.Errorf("withdrawn = %v, %v", v.Withdrawn, err)
	}
}

const base = `"id": "GHSA-xxxx-yyyy-zzzz", "modified": "2024-01-02T03:04:05Z"`

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, in, field, msg string
	}{
		{"not an object", `[1, 2]`, "(record)", "must be a JSON object, not a list"},
		{"bad JSON", `{"id": `, "", "not valid JSON"},
		{"no id", `{"modified": "2024-01-02T03:04:05Z"}`, "id", "needs an id"},
		{"empty id", `{"id": "", "modified": "2024-01-02T03:04:05Z"}`, "id", "needs an id"},
		{"id with space", `{"id": "A B", "modified": "2024-01-02T03:04:05Z"}`, "id", "spaces or control"},
		{"id not a string", `{"id": 7, "modified": "2024-01-02T03:04:05Z"}`, "id", "must be a string, not a number"},
		{"no modified", `{"id": "X-1"}`, "modified", "needs a modified time"},
		{"modified null", `{"id": "X-1", "modified": null}`, "modified", "not null"},
		{"modified not RFC 3339", `{"id": "X-1", "modified": "yesterday"}`, "modified", "not an RFC 3339 time"},
		{"withdrawn not RFC 3339", `{` + base + `, "withdrawn": "soon"}`, "withdrawn", "not an RFC 3339 time"},
		{"aliases not a list", `{` + base + `, "aliases": "CVE-1"}`, "aliases", "must be a list, not a string"},
		{"alias not a string", `{` + base + `, "aliases": ["CVE-1", 2]}`, "aliases[1]", "must be a string"},
		{"affected not a list", `{` + base + `, "affected": {}}`, "affected", "must be a list, not an object"},
		{"affected entry not an object", `{` + base + `, "affected": [{}, "x"]}`, "affected[1]", "must be an object"},
		{"package name a number", `{` + base + `, "affected": [{"package": {"ecosystem": "npm", "name": 1}}]}`, "affected[0].package.name", "must be a string"},
		{"ranges wrong type", `{` + base + `, "affected": [{"ranges": {}}]}`, "affected[0].ranges", "must be a list"},
		{"event two kinds", `{` + base + `, "affected": [{}, {}, {"ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"introduced": "1.0.0", "fixed": "1.0.2"}]}]}]}`,
			"affected[2].ranges[0].events[1]", "event has more than one of introduced/fixed/last_affected/limit"},
		{"event value a number", `{` + base + `, "affected": [{"ranges": [{"type": "SEMVER", "events": [{"introduced": 0}]}]}]}`, "affected[0].ranges[0].events[0].introduced", "must be a string, not a number"},
		{"versions not strings", `{` + base + `, "affected": [{"versions": [1.0]}]}`, "affected[0].versions[0]", "must be a string"},
		{"severity not a list", `{` + base + `, "severity": "HIGH"}`, "severity", "must be a list"},
		{"reference not an object", `{` + base + `, "references": ["https://x"]}`, "references[0]", "must be an object"},
		{"yaml alias", "id: X-1\nmodified: &t 2024-01-02T03:04:05Z\npublished: *t\n", "", "aliases"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name := "rec.json"
			if strings.HasPrefix(tt.in, "id:") {
				name = "rec.yaml"
			}
			_, _, err := Parse([]byte(tt.in), name)
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("err = %v, want *Error", err)
			}
			if pe.File != name || pe.Field != tt.field || !strings.Contains(pe.Msg, tt.msg) {
				t.Errorf("got file %q field %q msg %q; want %q %q %q", pe.File, pe.Field, pe.Msg, name, tt.field, tt.msg)
			}
			if !strings.HasPrefix(err.Error(), name+": ") {
				t.Errorf("error %q does not name the file", err)
			}
		})
	}
}

func TestParseWarnings(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		warns []Warning
		check func(t *testing.T, v *Vulnerability)
	}{
		{
			name:  "unknown range type dropped",
			in:    `{` + base + `, "affected": [{"package": {"ecosystem": "npm", "name": "a"}, "ranges": [{"type": "DATE", "events": [{"introduced": "0"}]}, {"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "1.0.0"}]}]}]}`,
			warns: []Warning{{Field: "affected[0].ranges[0]", Message: `unknown range type "DATE" (want ECOSYSTEM, SEMVER or GIT); range dropped`, Dropped: true}},
			check: func(t *testing.T, v *Vulnerability) {
				if len(v.Affected[0].Ranges) != 1 || v.Affected[0].Ranges[0].Type != RangeSemver {
					t.Errorf("ranges = %+v", v.Affected[0].Ranges)
				}
			},
		},
		{
			name:  "empty event value drops the range",
			in:    `{` + base + `, "affected": [{"package": {"ecosystem": "npm", "name": "a"}, "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": ""}]}]}]}`,
			warns: []Warning{{Field: "affected[0].ranges[0]", Message: "range dropped: affected[0].ranges[0].events[1]: fixed is empty", Dropped: true}},
			check: func(t *testing.T, v *Vulnerability) {
				if len(v.Affected) != 1 || len(v.Affected[0].Ranges) != 0 {
					t.Errorf("affected = %+v", v.Affected)
				}
			},
		},
		{
			name:  "event of no known kind",
			in:    `{` + base + `, "affected": [{"ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"patched": "2"}]}]}]}`,
			warns: []Warning{{Field: "affected[0].ranges[0]", Message: "range dropped: affected[0].ranges[0].events[1]: event has none of introduced/fixed/last_affected/limit", Dropped: true}},
		},
		{
			name:  "GIT range without repo",
			in:    `{` + base + `, "affected": [{"ranges": [{"type": "GIT", "events": [{"introduced": "0"}]}]}]}`,
			warns: []Warning{{Field: "affected[0].ranges[0]", Message: "a GIT range needs a repo; range dropped", Dropped: true}},
		},
		{
			name:  "range without events",
			in:    `{` + base + `, "affected": [{"ranges": [{"type": "SEMVER", "events": []}]}]}`,
			warns: []Warning{{Field: "affected[0].ranges[0]", Message: "a range needs at least one event; range dropped", Dropped: true}},
		},
		{
			name: "bad severity vectors",
			in: `{` + base + `, "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:X"}, {"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"},
				{"type": "CVSS_V4", "score": "CVSS:3.1/AV:N"}, {"type": "Ubuntu", "score": "HIGH"}, {"type": "OWASP", "score": "9"}]}`,
			warns: []Warning{
				{Field: "severity[0]", Message: `"CVSS:3.1/AV:X" is not a valid CVSS_V3 vector; dropped`, Dropped: true},
				{Field: "severity[2]", Message: `"CVSS:3.1/AV:N" is not a valid CVSS_V4 vector; dropped`, Dropped: true},
				{Field: "severity[3]", Message: `"HIGH" is not an Ubuntu priority (negligible, low, medium, high, critical); dropped`, Dropped: true},
				{Field: "severity[4]", Message: `unknown severity type "OWASP"; dropped`, Dropped: true},
			},
			check: func(t *testing.T, v *Vulnerability) {
				if len(v.Severity) != 1 || v.Severity[0].Type != SeverityCVSSv3 {
					t.Errorf("severity = %+v", v.Severity)
				}
			},
		},
		{
			name:  "package without name",
			in:    `{` + base + `, "affected": [{"package": {"ecosystem": "npm"}}, {"package": {"ecosystem": "npm", "name": "b"}}]}`,
			warns: []Warning{{Field: "affected[0].package", Message: "a package needs both ecosystem and name; the affected entry is dropped", Dropped: true}},
			check: func(t *testing.T, v *Vulnerability) {
				if len(v.Affected) != 1 || v.Affected[0].Package.Name != "b" {
					t.Errorf("affected = %+v", v.Affected)
				}
			},
		},
		{
			name: "tolerated",
			in: `{` + base + `, "published": "2024-01-02T04:04:05+01:00", "related": null, "unknown_future_field": {"x": 1},
				"affected": [{"package": {"ecosystem": "Debian:13", "name": "a"}, "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2"}, {"last_affected": "1"}]}], "versions": ["1", ""], "database_specific": "x"}],
				"references": [{"type": "BLOG", "url": "https://x"}, {"type": "WEB"}], "credits": [{"name": "a", "type": "FRIEND"}, {"contact": []}]}`,
			warns: []Warning{
				{Field: "published", Message: `"2024-01-02T04:04:05+01:00" is not in UTC (ending in Z); converted`},
				{Field: "related", Message: "null is not a list; read as an empty list"},
				{Field: "affected[0].ranges[0]", Message: "both fixed and last_affected events (the schema allows one kind); kept"},
				{Field: "affected[0].versions[1]", Message: "empty string dropped", Dropped: true},
				{Field: "affected[0].database_specific", Message: "must be an object, not a string; dropped", Dropped: true},
				{Field: "references[0]", Message: `unknown reference type "BLOG"; kept`},
				{Field: "references[1]", Message: "a reference needs a url; dropped", Dropped: true},
				{Field: "credits[0]", Message: `unknown credit type "FRIEND"; kept`},
				{Field: "credits[1]", Message: "a credit needs a name; dropped", Dropped: true},
			},
			check: func(t *testing.T, v *Vulnerability) {
				if !v.Published.Equal(mustTime(t, "2024-01-02T03:04:05Z")) {
					t.Errorf("published = %v", v.Published)
				}
				if len(v.References) != 1 || len(v.Credits) != 1 || len(v.Affected[0].Versions) != 1 {
					t.Errorf("got %+v", v)
				}
			},
		},
		{
			name:  "bad published dropped",
			in:    `{` + base + `, "published": "2024-13-45"}`,
			warns: []Warning{{Field: "published", Message: `"2024-13-45" is not an RFC 3339 time; dropped`, Dropped: true}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, warns, err := Parse([]byte(tt.in), "w.json")
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.warns, warns); diff != "" {
				t.Errorf("warnings (-want +got):\n%s", diff)
			}
			if tt.check != nil {
				tt.check(t, v)
			}
		})
	}
}

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestParseBounds(t *testing.T) {
	big := strings.Repeat("a", MaxStringLen+1)
	many := strings.TrimSuffix(strings.Repeat(`"v",`, MaxListLen+1), ",")
	deep := strings.Repeat(`{"a":`, 200) + "1" + strings.Repeat("}", 200)
	tests := []struct {
		name, in, field string
	}{
		{"huge string", `{` + base + `, "details": "` + big + `"}`, "details"},
		{"huge key", `{` + base + `, "` + big + `": 1}`, "(record)"},
		{"too many versions", `{` + base + `, "affected": [{"versions": [` + many + `]}]}`, "affected[0].versions"},
		{"too large", `{` + base + `, "details": "` + strings.Repeat("b", MaxRecordSize) + `"}`, ""},
		{"deep database_specific", `{` + base + `, "database_specific": ` + deep + `}`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := Parse([]byte(tt.in), "big.json")
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("err = %v", err)
			}
			if tt.field != "" && pe.Field != tt.field {
				t.Errorf("field = %q, want %q (%v)", pe.Field, tt.field, err)
			}
			if !errors.Is(err, ErrTooLarge) {
				t.Errorf("err = %v, want ErrTooLarge", err)
			}
		})
	}
}

func TestParseAll(t *testing.T) {
	one := `{` + base + `}`
	tests := []struct {
		name, in string
		ids      []string
		errField string
	}{
		{"one record", one, []string{"GHSA-xxxx-yyyy-zzzz"}, ""},
		{"list", `[` + one + `, {"id": "X-2", "modified": "2024-01-02T03:04:05Z"}, 5]`, []string{"GHSA-xxxx-yyyy-zzzz", "X-2", ""}, "[2]"},
		{"osv.dev answer", `{"vulns": [` + one + `, {"modified": "2024-01-02T03:04:05Z"}]}`, []string{"GHSA-xxxx-yyyy-zzzz", ""}, "vulns[1].id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rs, err := ParseAll([]byte(tt.in), "many.json")
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, r := range rs {
				if r.Err != nil {
					var pe *Error
					if !errors.As(r.Err, &pe) || pe.Field != tt.errField {
						t.Errorf("record error %v, want field %q", r.Err, tt.errField)
					}
					ids = append(ids, "")
					continue
				}
				ids = append(ids, r.Vuln.ID)
			}
			if diff := cmp.Diff(tt.ids, ids); diff != "" {
				t.Errorf("ids (-want +got):\n%s", diff)
			}
		})
	}
	if _, err := ParseAll([]byte(`"text"`), "s.json"); err == nil {
		t.Error("a bare string parsed")
	}
}

func TestYAMLKeepsTimestampsAndTypes(t *testing.T) {
	in := "id: PYSEC-0000-1\nmodified: 2023-11-07T20:24:23.946863Z\npublished: 2020-08-05T14:15:00Z\n" +
		"affected:\n- package:\n    ecosystem: PyPI\n    name: Foo_Bar\n  versions:\n  - \"1.0\"\n  ecosystem_specific:\n    n: 0x1F\n    f: .inf\n    ok: true\n    nothing: ~\n"
	v, warns, err := Parse([]byte(in), "x.yml")
	if err != nil || len(warns) != 0 {
		t.Fatalf("err %v warns %v", err, warns)
	}
	if got := v.Modified.Format(time.RFC3339Nano); got != "2023-11-07T20:24:23.946863Z" {
		t.Errorf("modified = %s", got)
	}
	if got := string(v.Affected[0].EcosystemSpecific); got != `{"f":".inf","n":31,"nothing":null,"ok":true}` {
		t.Errorf("ecosystem_specific = %s", got)
	}
	// A YAML number where a string belongs is a wrong type, as in JSON.
	if _, _, err := Parse([]byte("id: X-1\nmodified: 2023-11-07T20:24:23Z\naliases: [1.5]\n"), "n.yaml"); err == nil {
		t.Error("number alias accepted")
	}
}
