// Command configdiff compares the Dockerfile findings of `seawall scan
// config --format json` with those of `trivy config --format json` on the
// same files, for docs/ACCURACY.md.
//
//	go run ./bench/configdiff seawall.json trivy.json
//
// Trivy's check IDs are mapped to Seawall's (the table below); findings
// are matched on the file, the check and the line, then, for those trivy
// reports without a line (a missing USER or HEALTHCHECK), on the file and
// the check alone. What is left is listed as found by one tool only, with
// trivy's checks that have no Seawall counterpart listed apart.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// trivyToSeawall maps trivy's Dockerfile checks to Seawall's; "" marks
// checks Seawall does not have.
var trivyToSeawall = map[string]string{
	"DS-0001": "SW-DF-006", // ':latest' tag used
	"DS-0002": "SW-DF-001", // image user should not be 'root'
	"DS-0004": "SW-DF-005", // port 22 exposed
	"DS-0005": "SW-DF-004", // ADD instead of COPY
	"DS-0010": "SW-DF-009", // RUN using sudo
	"DS-0015": "SW-DF-010", // yum clean all missing
	"DS-0017": "SW-DF-011", // update instruction alone
	"DS-0019": "SW-DF-010", // dnf clean all missing
	"DS-0020": "SW-DF-010", // zypper clean missing
	"DS-0025": "SW-DF-010", // apk add without --no-cache
	"DS-0026": "SW-DF-007", // no HEALTHCHECK
	"DS-0031": "SW-DF-002", // secrets in ENV or ARG
	"DS-0013": "",          // RUN cd: style
	"DS-0029": "",          // apt-get without --no-install-recommends: size
}

type finding struct {
	file, id, detail string
	line             int
}

func (f finding) String() string {
	return fmt.Sprintf("%s:%d %s %s", f.file, f.line, f.id, f.detail)
}

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: configdiff SEAWALL.json TRIVY.json")
		os.Exit(2)
	}
	sw, err := readSeawall(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	tv, unmapped, files, err := readTrivy(os.Args[2])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	for _, f := range sw {
		files[f.file] = true
	}

	// Match on file, check and line; then on file and check for findings
	// without a line.
	used := make([]bool, len(sw))
	var both []finding
	var onlyTrivy []finding
	for pass := 0; pass < 2; pass++ {
		var rest []finding
		for _, t := range tv {
			hit := -1
			for i, s := range sw {
				if used[i] || s.file != t.file || s.id != t.id {
					continue
				}
				if pass == 0 && s.line != t.line {
					continue
				}
				if pass == 1 && t.line != 0 {
					continue
				}
				hit = i
				break
			}
			if hit < 0 {
				rest = append(rest, t)
				continue
			}
			used[hit] = true
			both = append(both, sw[hit])
		}
		tv = rest
	}
	onlyTrivy = tv
	var onlySeawall []finding
	for i, s := range sw {
		if !used[i] {
			onlySeawall = append(onlySeawall, s)
		}
	}

	names := make([]string, 0, len(files))
	for f := range files {
		names = append(names, f)
	}
	sort.Strings(names)
	count := func(fs []finding, file string) int {
		n := 0
		for _, f := range fs {
			if f.file == file {
				n++
			}
		}
		return n
	}
	fmt.Println("| Dockerfile | both | Seawall only | trivy only | trivy, no Seawall check |")
	fmt.Println("|---|---:|---:|---:|---:|")
	for _, n := range names {
		fmt.Printf("| %s | %d | %d | %d | %d |\n", n, count(both, n), count(onlySeawall, n), count(onlyTrivy, n), count(unmapped, n))
	}
	fmt.Printf("| **total** | %d | %d | %d | %d |\n\n", len(both), len(onlySeawall), len(onlyTrivy), len(unmapped))
	list := func(title string, fs []finding) {
		sort.Slice(fs, func(i, j int) bool { return fs[i].String() < fs[j].String() })
		fmt.Printf("%s (%d):\n", title, len(fs))
		for _, f := range fs {
			fmt.Printf("- %s\n", f)
		}
		fmt.Println()
	}
	list("Seawall only", onlySeawall)
	list("trivy only", onlyTrivy)
	list("trivy, no Seawall check", unmapped)
}

func readSeawall(p string) ([]finding, error) {
	var doc struct {
		Findings []struct {
			ID       string `json:"id"`
			Details  string `json:"details"`
			Line     int    `json:"line"`
			Location struct {
				Path string `json:"path"`
			} `json:"location"`
		} `json:"findings"`
	}
	if err := readJSON(p, &doc); err != nil {
		return nil, err
	}
	var out []finding
	for _, f := range doc.Findings {
		msg, _, _ := strings.Cut(f.Details, "\n")
		out = append(out, finding{file: filepath.Base(f.Location.Path), id: f.ID, line: f.Line, detail: msg})
	}
	return out, nil
}

func readTrivy(p string) (mapped, unmapped []finding, files map[string]bool, err error) {
	var doc struct {
		Results []struct {
			Target            string `json:"Target"`
			Misconfigurations []struct {
				ID            string `json:"ID"`
				Message       string `json:"Message"`
				Status        string `json:"Status"`
				CauseMetadata struct {
					StartLine int `json:"StartLine"`
				} `json:"CauseMetadata"`
			} `json:"Misconfigurations"`
		} `json:"Results"`
	}
	if err := readJSON(p, &doc); err != nil {
		return nil, nil, nil, err
	}
	files = map[string]bool{}
	for _, r := range doc.Results {
		file := filepath.Base(r.Target)
		files[file] = true
		for _, m := range r.Misconfigurations {
			if m.Status != "" && m.Status != "FAIL" {
				continue
			}
			f := finding{file: file, line: m.CauseMetadata.StartLine, detail: m.ID + ": " + m.Message}
			id, ok := trivyToSeawall[m.ID]
			if !ok || id == "" {
				f.id = m.ID
				unmapped = append(unmapped, f)
				continue
			}
			f.id = id
			mapped = append(mapped, f)
		}
	}
	return mapped, unmapped, files, nil
}

func readJSON(p string, v any) error {
	b, err := os.ReadFile(p)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: %w", p, err)
	}
	return nil
}
