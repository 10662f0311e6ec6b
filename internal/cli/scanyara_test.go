//go:build yara && cgo

package cli

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/seawall-dev/seawall/internal/imagetest"
)

// TestScanYARARules runs in the YARA build (internal/malware's
// TestYARABuild runs it with -tags yara): a file crafted to match one
// signature-base rule, in the second layer of a docker archive, is
// reported by `seawall scan image --yara-rules` with the rule's name, its
// layer and its author, next to EICAR in the first layer.
func TestScanYARARules(t *testing.T) {
	// Two of the strings of signature-base's XMRIG_Monero_Miner behind an
	// ELF header; it is not a program.
	miner := "\x7fELF\x02\x01\x01\x00" + strings.Repeat("\x00", 56) +
		"\x00'h' hashrate, 'p' pause, 'r' resume\x00usage: --cpu-affinity\x00" + strings.Repeat("\x00", 100)
	layers := []imagetest.Layer{
		imagetest.NewLayer(true, imagetest.File("etc/os-release", "ID=debian\n"), imagetest.File("opt/eicar.com", eicarFile(t))),
		imagetest.NewLayer(true, imagetest.Exec("usr/local/bin/kworker", miner), imagetest.Exec("usr/local/bin/ok", "\x7fELF"+strings.Repeat("\x00", 300))),
	}
	p := filepath.Join(t.TempDir(), "img.tar")
	if err := imagetest.DockerArchive(p, "miner:1", layers); err != nil {
		t.Fatal(err)
	}
	rules := filepath.Join("..", "malware", "testdata", "yara")
	code, out, stderr := runCLI(t, "scan", "image", p, "--scanners", "malware", "--yara-rules", rules, "--format", "json", "--quiet", "--ignorefile", "", "--exit-code", "5")
	doc := reportOf(t, code, out, stderr)
	if code != 5 {
		t.Errorf("exit %d, want 5: %s", code, stderr)
	}
	type where struct {
		ID, Path string
		Layer    int
	}
	var got []where
	for _, f := range doc.Findings {
		got = append(got, where{f.ID, f.Location.Path, f.Location.LayerIndex})
		if f.ID == "YARA-XMRIG_Monero_Miner" && (!strings.Contains(f.Details, "Florian Roth") || f.Location.LayerDiffID != doc.Source.Layers[1].DiffID) {
			t.Errorf("YARA finding details %q layer %s", f.Details, f.Location.LayerDiffID)
		}
	}
	want := []where{{"SW-MAL-EICAR", "/opt/eicar.com", 0}, {"YARA-XMRIG_Monero_Miner", "/usr/local/bin/kworker", 1}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}

	code, out, _ = runCLI(t, "version")
	if code != 0 || !strings.Contains(out, "YARA: on (libyara ") {
		t.Errorf("version: %q", out)
	}
}
