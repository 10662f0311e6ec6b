package javalock

import (
	"bufio"
	"bytes"
	"fmt"
	"strings"

	"github.com/seawall-dev/seawall/internal/inventory"
)

// ParseGradle reads a gradle.lockfile: one "group:artifact:version=conf,…"
// line per resolved module, plus "empty=…" for configurations without
// any. A module locked only for test configurations is Dev. The legacy
// per-configuration format has bare "group:artifact:version" lines; conf
// then names the configuration the whole file belongs to.
func ParseGradle(b []byte, conf string) ([]inventory.Package, error) {
	var (
		pkgs []inventory.Package
		seen = map[string]int{}
		bad  int
	)
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		coord, confs, hasConfs := strings.Cut(line, "=")
		if coord == "empty" {
			continue
		}
		parts := strings.Split(coord, ":")
		if len(parts) != 3 || parts[0] == "" || parts[1] == "" || parts[2] == "" || strings.ContainsAny(coord, " \t") {
			bad++
			continue
		}
		if !hasConfs {
			confs = conf
		}
		p := mavenPkg(parts[0], parts[1], parts[2])
		p.Dev = testOnly(confs)
		key := coord
		if i, ok := seen[key]; ok {
			pkgs[i].Dev = pkgs[i].Dev && p.Dev
			continue
		}
		seen[key] = len(pkgs)
		pkgs = append(pkgs, p)
	}
	if err := sc.Err(); err != nil {
		return pkgs, fmt.Errorf("gradle lockfile: %w", err)
	}
	if bad > 0 && len(pkgs) == 0 {
		return nil, fmt.Errorf("not a gradle lockfile: %d malformed lines and no dependencies", bad)
	}
	return pkgs, nil
}

// testOnly reports whether every configuration in the comma-separated
// list is a test one: "testCompileClasspath", "testRuntimeClasspath",
// and the camel-cased source sets such as "integrationTestRuntimeClasspath"
// or "androidTestCompileClasspath".
func testOnly(confs string) bool {
	n := 0
	for _, c := range strings.Split(confs, ",") {
		c = strings.TrimSpace(c)
		if c == "" {
			continue
		}
		if !strings.HasPrefix(c, "test") && !strings.Contains(c, "Test") {
			return false
		}
		n++
	}
	return n > 0
}
