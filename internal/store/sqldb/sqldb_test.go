package sqldb

import (
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

func TestNumber(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"none", "SELECT 1", "SELECT 1"},
		{"several", "INSERT INTO t (a, b) VALUES (?, ?) ON CONFLICT DO NOTHING", "INSERT INTO t (a, b) VALUES ($1, $2) ON CONFLICT DO NOTHING"},
		{"many", strings.Repeat("?,", 11) + "?", "$1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12"},
		{"unicode around", "é = ? AND ü = ?", "é = $1 AND ü = $2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Number(tt.in); got != tt.want {
				t.Errorf("Number(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestMigrations(t *testing.T) {
	file := func(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s)} }
	tests := []struct {
		name    string
		fsys    fstest.MapFS
		want    []int
		wantErr string
	}{
		{"in order", fstest.MapFS{"0002_b.sql": file("B"), "0001_a.sql": file("A"), "README.md": file("")}, []int{1, 2}, ""},
		{"gap", fstest.MapFS{"0001_a.sql": file("A"), "0003_c.sql": file("C")}, nil, "want 2"},
		{"duplicate", fstest.MapFS{"0001_a.sql": file("A"), "1_again.sql": file("A")}, nil, "want 2"},
		{"unnumbered", fstest.MapFS{"init.sql": file("A")}, nil, "NNNN_what.sql"},
		{"empty", fstest.MapFS{}, nil, "no migrations"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ms, err := Migrations(tt.fsys)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one saying %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []int
			for _, m := range ms {
				got = append(got, m.Version)
			}
			if len(got) != len(tt.want) || got[0] != tt.want[0] || got[len(got)-1] != tt.want[len(tt.want)-1] {
				t.Errorf("versions %v, want %v", got, tt.want)
			}
		})
	}
}

func TestTextTimeSorts(t *testing.T) {
	db := &DB{d: Dialect{TextTime: true}}
	times := []time.Time{
		time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2024, 1, 1, 0, 0, 0, 1000, time.UTC),
		time.Date(2024, 1, 1, 0, 0, 0, 100000000, time.UTC),
		time.Date(2024, 1, 1, 1, 0, 0, 0, time.FixedZone("", -3600)), // 02:00 UTC
		time.Date(2024, 1, 1, 2, 0, 0, 1000, time.FixedZone("", 0)),
	}
	var prev string
	for i, at := range times {
		s := db.t(at).(string)
		if i > 0 && s <= prev {
			t.Errorf("%s sorts before or at %s", s, prev)
		}
		var back time.Time
		if err := (timeScan{&back}).Scan(s); err != nil || !back.Equal(at) || back.Location() != time.UTC {
			t.Errorf("%v stored as %q came back as %v, %v", at, s, back, err)
		}
		prev = s
	}
	if db.t(time.Time{}) != nil {
		t.Error("a zero time is not NULL")
	}
}
