package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWAFUsageErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "rules")
	if err := os.Mkdir(bad, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bad, "custom.conf"), []byte(`SecRule ARGS "@rx (" "id:1,deny"`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	badYAML := filepath.Join(dir, "waf.yaml")
	if err := os.WriteFile(badYAML, []byte("upstream: http://127.0.0.1:9000\nparanioa: 2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	up := "--upstream=http://127.0.0.1:9"
	tests := []struct {
		name     string
		args     []string
		code     int
		contains string
	}{
		{"no upstream", []string{"waf"}, ExitUsage, "give --upstream"},
		{"upstream scheme", []string{"waf", "--upstream", "ftp://x"}, ExitUsage, "use an http:// or https:// URL"},
		{"paranoia", []string{"waf", up, "--paranoia", "7"}, ExitUsage, "paranoia 7: use 1, 2, 3 or 4"},
		{"mode", []string{"waf", up, "--mode", "audit"}, ExitUsage, "audit"},
		{"argument", []string{"waf", up, "extra"}, ExitUsage, "unknown command"},
		{"config typo", []string{"waf", "--config", badYAML}, ExitError, "paranioa"},
		{"rules fail closed", []string{"waf", up, "--listen", "127.0.0.1:0", "--rules", bad}, ExitError, "custom.conf"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := runCLI(t, tc.args...)
			if code != tc.code {
				t.Errorf("exit %d, want %d (stderr %q)", code, tc.code, stderr)
			}
			if !strings.Contains(stderr, tc.contains) {
				t.Errorf("stderr %q does not contain %q", stderr, tc.contains)
			}
		})
	}
}
