package osv

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
)

// FuzzParse feeds the parser real records of every ecosystem (JSON and
// YAML) and mutations of them. It must never panic, and whatever it
// accepts must survive a round trip through its stored JSON form.
func FuzzParse(f *testing.F) {
	for _, p := range testRecords(f) {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		if len(data) > 32<<10 {
			continue // the fuzzer crawls on large inputs
		}
		f.Add(data, IsYAML(p))
	}
	f.Add([]byte(`{"id":"X-1","modified":"2024-01-02T03:04:05Z","affected":[{"ranges":[{"type":"SEMVER","events":[{"introduced":"0","fixed":"1"}]}]}]}`), false)
	f.Add([]byte("id: X-1\nmodified: 2024-01-02T03:04:05Z\naffected: [{versions: [&a 1, *a]}]\n"), true)
	f.Fuzz(func(t *testing.T, data []byte, yaml bool) {
		name := "f.json"
		if yaml {
			name = "f.yaml"
		}
		if _, err := ParseAll(data, name); err != nil && !strings.HasPrefix(err.Error(), name) {
			t.Fatalf("error does not name the file: %v", err)
		}
		v, _, err := Parse(data, name)
		if err != nil {
			if !strings.HasPrefix(err.Error(), name+": ") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		raw, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("accepted record does not marshal: %v", err)
		}
		if _, _, err := Parse(raw, "again.json"); err != nil && !strings.Contains(err.Error(), "more than") {
			t.Fatalf("accepted record does not re-parse: %v\n%s", err, raw)
		}
	})
}
