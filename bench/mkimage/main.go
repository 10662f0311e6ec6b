// Command mkimage builds the benchmark and accuracy images from layer
// tarballs: an OCI layout that keeps the (gzip) blobs as they are, and a
// docker save archive with uncompressed layers.
//
//	go run ./bench/mkimage -out DIR -name NAME LAYER.tar.gz [LAYER.tar.gz...]
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/seawall-dev/seawall/internal/imagetest"
)

func main() {
	out := flag.String("out", "bench/out/images", "output directory")
	name := flag.String("name", "image", "image name (files are NAME.oci/ and NAME.docker.tar)")
	flag.Parse()
	if flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: mkimage -out DIR -name NAME LAYER.tar[.gz]...")
		os.Exit(2)
	}
	var blobs []imagetest.BlobInfo
	for _, p := range flag.Args() {
		b, err := imagetest.StatBlob(p)
		if err != nil {
			fmt.Fprintf(os.Stderr, "mkimage: %s: %v\n", p, err)
			os.Exit(1)
		}
		blobs = append(blobs, b)
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, "mkimage:", err)
		os.Exit(1)
	}
	layout := filepath.Join(*out, *name+".oci")
	archive := filepath.Join(*out, *name+".docker.tar")
	os.RemoveAll(layout)
	if err := imagetest.OCILayoutFromBlobs(layout, *name+":latest", blobs); err != nil {
		fmt.Fprintln(os.Stderr, "mkimage:", err)
		os.Exit(1)
	}
	if err := imagetest.DockerArchiveFromBlobs(archive, "seawall.test/"+*name+":latest", blobs); err != nil {
		fmt.Fprintln(os.Stderr, "mkimage:", err)
		os.Exit(1)
	}
	fmt.Println(layout)
	fmt.Println(archive)
}
