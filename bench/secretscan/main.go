// Command secretscan runs the secret scanner alone over a tree or root
// filesystem, with the same walk as `seawall scan image --scanners secret`
// but without the rest of the command (catalogers, report), and can write
// a CPU profile: for profiling the scanner. bench/secrets.sh measures the
// real command.
//
//	go run ./bench/secretscan [-config FILE] [-cpuprofile FILE] (-dir DIR | -rootfs PATH) [-o out.json]
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime/pprof"

	"github.com/seawall-dev/seawall/internal/catalog"
	"github.com/seawall-dev/seawall/internal/image"
	"github.com/seawall-dev/seawall/internal/secret"
)

func main() {
	dir := flag.String("dir", "", "source tree")
	rootfs := flag.String("rootfs", "", "root filesystem (directory or tarball)")
	cfgPath := flag.String("config", "", "gitleaks TOML or Seawall YAML rules")
	out := flag.String("o", "", "write the findings as JSON here")
	prof := flag.String("cpuprofile", "", "write a CPU profile here")
	flag.Parse()
	if *prof != "" {
		f, err := os.Create(*prof)
		if err != nil {
			fail(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fail(err)
		}
		defer pprof.StopCPUProfile()
	}
	var cfg *secret.Config
	if *cfgPath != "" {
		var err error
		if cfg, err = secret.LoadConfig(*cfgPath); err != nil {
			fail(err)
		}
	}
	s, err := secret.New(cfg, secret.Options{})
	if err != nil {
		fail(err)
	}
	var img *image.Image
	switch {
	case *dir != "":
		img, err = image.OpenTree(*dir, image.KindDir)
	case *rootfs != "":
		img, err = image.OpenRootfs(*rootfs)
	default:
		fail(fmt.Errorf("give -dir or -rootfs"))
	}
	if err != nil {
		fail(err)
	}
	defer img.Close()
	tmp := image.NewTempDir("")
	defer tmp.Close()
	res, err := catalog.Scan(context.Background(), img, catalog.Options{
		FileScanners:  []catalog.FileScanner{s},
		ImageScanners: []catalog.ImageScanner{s.ImageScanner()},
		Walk:          image.WalkOptions{Temp: tmp},
	})
	if err != nil {
		fail(err)
	}
	if *out != "" {
		b, _ := json.MarshalIndent(res.Findings, "", "  ")
		if err := os.WriteFile(*out, b, 0o644); err != nil {
			fail(err)
		}
	}
	fmt.Printf("%d secrets\n", len(res.Findings))
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "secretscan:", err)
	os.Exit(1)
}
