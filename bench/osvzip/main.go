// Command osvzip turns directories of OSV records into the per-ecosystem
// all.zip files that osv.dev exports and osv-scanner reads offline, for
// bench/osvscanner.sh.
//
//	go run ./bench/osvzip -out DIR INPUT...
//
// It writes DIR/osv-scanner/<ECOSYSTEM>/all.zip, the layout osv-scanner
// v1.9.2 expects under --experimental-local-db-path DIR (internal/local:
// path.Join(DIR, "osv-scanner", ecosystem, "all.zip"), where ecosystem is
// the lockfile's ecosystem, e.g. "PyPI", "crates.io", "Go").
//
// It reads the records the way `seawall db import` does, so that both tools
// get the same data:
//   - every .json, .yaml and .yml file under each INPUT, in walk order;
//   - a file holds one record, a list of records, or an osv.dev answer
//     ({"vulns": [...]}); items without an "id" are skipped, as Seawall
//     rejects them;
//   - YAML (the PyPA database) is turned into JSON with every scalar kept
//     as written: timestamps stay strings, numbers stay numbers;
//   - an ID seen twice keeps the record with the later "modified" time (the
//     first one on a tie), as an import into one Seawall DB does.
//
// Each record goes, as <ID>.json, into the zip of every ecosystem named in
// its affected[].package.ecosystem, by the part before ':' ("Debian:12" goes
// into Debian, "AlmaLinux:9" into AlmaLinux), as osv.dev's exports do. A
// record with no affected package is in no zip. The record's bytes are the
// input's, unchanged, for JSON files holding one record.
package main

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

type record struct {
	id       string
	modified time.Time
	ecos     []string
	data     []byte
	src      string
}

func main() {
	out := flag.String("out", "", "output directory (gets osv-scanner/<ECOSYSTEM>/all.zip)")
	flag.Parse()
	if *out == "" || flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: osvzip -out DIR INPUT...")
		os.Exit(2)
	}
	byID := map[string]*record{}
	var order []string
	files, skipped := 0, 0
	for _, in := range flag.Args() {
		err := filepath.WalkDir(in, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			switch strings.ToLower(filepath.Ext(p)) {
			case ".json", ".yaml", ".yml":
			default:
				return nil
			}
			if d.IsDir() {
				return nil
			}
			files++
			recs, n, err := readFile(p)
			if err != nil {
				fmt.Fprintf(os.Stderr, "osvzip: %s: %v; skipped\n", p, err)
				skipped++
				return nil
			}
			skipped += n
			for _, r := range recs {
				old, ok := byID[r.id]
				if !ok {
					byID[r.id] = r
					order = append(order, r.id)
				} else if r.modified.After(old.modified) {
					byID[r.id] = r
				}
			}
			return nil
		})
		if err != nil {
			fmt.Fprintln(os.Stderr, "osvzip:", err)
			os.Exit(1)
		}
	}

	perEco := map[string][]*record{}
	for _, id := range order {
		r := byID[id]
		for _, e := range r.ecos {
			perEco[e] = append(perEco[e], r)
		}
	}
	ecos := make([]string, 0, len(perEco))
	for e := range perEco {
		ecos = append(ecos, e)
	}
	sort.Strings(ecos)
	for _, e := range ecos {
		dir := filepath.Join(*out, "osv-scanner", e)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			fmt.Fprintln(os.Stderr, "osvzip:", err)
			os.Exit(1)
		}
		if err := writeZip(filepath.Join(dir, "all.zip"), perEco[e]); err != nil {
			fmt.Fprintln(os.Stderr, "osvzip:", err)
			os.Exit(1)
		}
		fmt.Printf("%s/osv-scanner/%s/all.zip\t%d records\n", *out, e, len(perEco[e]))
	}
	fmt.Printf("%d files, %d records (%d unique IDs), %d items skipped\n", files, len(order), len(byID), skipped)
}

func writeZip(name string, recs []*record) error {
	f, err := os.Create(name + ".tmp")
	if err != nil {
		return err
	}
	zw := zip.NewWriter(f)
	sort.Slice(recs, func(i, j int) bool { return recs[i].id < recs[j].id })
	for _, r := range recs {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: r.id + ".json", Method: zip.Deflate, Modified: r.modified})
		if err != nil {
			return err
		}
		if _, err := w.Write(r.data); err != nil {
			return err
		}
	}
	if err := zw.Close(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(name+".tmp", name)
}

// readFile returns the records in one file and how many items it skipped.
func readFile(p string) ([]*record, int, error) {
	data, err := os.ReadFile(p)
	if err != nil {
		return nil, 0, err
	}
	single := true
	if ext := strings.ToLower(filepath.Ext(p)); ext == ".yaml" || ext == ".yml" {
		var n yaml.Node
		if err := yaml.Unmarshal(data, &n); err != nil {
			return nil, 0, fmt.Errorf("not valid YAML: %w", err)
		}
		v, err := nodeValue(&n)
		if err != nil {
			return nil, 0, err
		}
		if data, err = json.Marshal(v); err != nil {
			return nil, 0, err
		}
		single = false // re-encoded anyway
	}
	var items []json.RawMessage
	switch t := bytes.TrimLeft(data, " \t\r\n"); {
	case len(t) > 0 && t[0] == '[':
		if err := json.Unmarshal(data, &items); err != nil {
			return nil, 0, fmt.Errorf("not valid JSON: %w", err)
		}
		single = false
	default:
		var probe struct {
			ID    *string           `json:"id"`
			Vulns []json.RawMessage `json:"vulns"`
		}
		if err := json.Unmarshal(data, &probe); err != nil {
			return nil, 0, fmt.Errorf("not valid JSON: %w", err)
		}
		if probe.ID == nil && probe.Vulns != nil {
			items, single = probe.Vulns, false
		} else {
			items = []json.RawMessage{data}
		}
	}
	var recs []*record
	skipped := 0
	for _, it := range items {
		var v struct {
			ID       string `json:"id"`
			Modified string `json:"modified"`
			Affected []struct {
				Package struct {
					Ecosystem string `json:"ecosystem"`
				} `json:"package"`
			} `json:"affected"`
		}
		if err := json.Unmarshal(it, &v); err != nil || v.ID == "" {
			skipped++
			continue
		}
		r := &record{id: v.ID, src: p, data: it}
		if !single {
			var buf bytes.Buffer
			if err := json.Compact(&buf, it); err == nil {
				r.data = buf.Bytes()
			}
		}
		r.modified, _ = time.Parse(time.RFC3339Nano, v.Modified)
		seen := map[string]bool{}
		for _, a := range v.Affected {
			e, _, _ := strings.Cut(a.Package.Ecosystem, ":")
			if e != "" && !seen[e] {
				seen[e] = true
				r.ecos = append(r.ecos, e)
			}
		}
		recs = append(recs, r)
	}
	return recs, skipped, nil
}

// nodeValue turns YAML into JSON values, keeping each scalar as written:
// a timestamp stays the string it was (a YAML library would make it a
// time.Time, and re-encode it differently).
func nodeValue(n *yaml.Node) (any, error) {
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, nil
		}
		return nodeValue(n.Content[0])
	case yaml.AliasNode:
		return nodeValue(n.Alias)
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			v, err := nodeValue(n.Content[i+1])
			if err != nil {
				return nil, err
			}
			m[n.Content[i].Value] = v
		}
		return m, nil
	case yaml.SequenceNode:
		l := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			v, err := nodeValue(c)
			if err != nil {
				return nil, err
			}
			l = append(l, v)
		}
		return l, nil
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!null":
			return nil, nil
		case "!!bool", "!!int", "!!float":
			var v any
			if err := n.Decode(&v); err != nil {
				return nil, err
			}
			return v, nil
		default: // !!str, !!timestamp, !!binary …
			return n.Value, nil
		}
	}
	return nil, fmt.Errorf("line %d: unexpected YAML node kind %d", n.Line, n.Kind)
}
