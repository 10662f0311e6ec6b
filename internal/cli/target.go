package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/seawall-dev/seawall/internal/catalog"
	"github.com/seawall-dev/seawall/internal/catalog/list"
	"github.com/seawall-dev/seawall/internal/image"
	"github.com/seawall-dev/seawall/internal/inventory"
)

// targetFlags choose what to read: an image argument, --rootfs or --dir.
type targetFlags struct {
	registryFlags
	rootfs, dir string
	lockfiles   bool
}

func (t *targetFlags) add(cmd *cobra.Command) {
	t.registryFlags.add(cmd)
	cmd.Flags().StringVar(&t.rootfs, "rootfs", "", "scan a root filesystem: a directory or a tar/tar.gz of one")
	cmd.Flags().StringVar(&t.dir, "dir", "", "scan a source tree or checkout (lockfiles and manifests)")
	cmd.Flags().BoolVar(&t.lockfiles, "lockfiles", false, "in images and root filesystems, also read lockfiles (always on for --dir)")
}

// open resolves the target. Exactly one of an image argument, --rootfs
// and --dir must be given.
func (t *targetFlags) open(ctx context.Context, args []string, tmp *image.TempDir) (*image.Image, error) {
	n := len(args)
	if t.rootfs != "" {
		n++
	}
	if t.dir != "" {
		n++
	}
	if n != 1 {
		return nil, usagef("give exactly one of: an IMAGE argument, --rootfs DIR_OR_TAR, --dir DIR")
	}
	switch {
	case t.rootfs != "":
		return image.OpenRootfs(t.rootfs)
	case t.dir != "":
		return image.OpenTree(t.dir, image.KindDir)
	}
	return image.Open(ctx, args[0], t.options(tmp))
}

// catalogers picks the plug-ins for a source kind: installed-package
// catalogers everywhere, lockfile catalogers on source trees (or when asked).
func (t *targetFlags) catalogers(kind string) []catalog.Cataloger {
	var out []catalog.Cataloger
	for _, c := range list.All() {
		if catalog.IsDeclared(c) && kind != image.KindDir && !t.lockfiles {
			continue
		}
		out = append(out, c)
	}
	return out
}

// inventory opens the target and catalogs it.
func (t *targetFlags) inventory(ctx context.Context, e *env, args []string) (*inventory.Inventory, error) {
	res, err := t.scan(ctx, e, args, nil)
	if err != nil {
		return nil, err
	}
	return res.Inventory, nil
}

// scanners are the plug-ins that look for problems during the walk.
type scanners struct {
	files  []catalog.FileScanner
	images []catalog.ImageScanner
}

// scan opens the target and walks it once, cataloging packages and running
// the scanners pick chooses for the kind of source (nil: none).
func (t *targetFlags) scan(ctx context.Context, e *env, args []string, pick func(kind string) scanners) (*catalog.Result, error) {
	tmp := image.NewTempDir("")
	defer tmp.Close()
	img, err := t.open(ctx, args, tmp)
	if err != nil {
		return nil, err
	}
	defer img.Close()
	opts := catalog.Options{
		Catalogers: t.catalogers(img.Kind),
		Logger:     e.log.With("component", "catalog"),
		Walk:       image.WalkOptions{Temp: tmp},
	}
	if pick != nil {
		sc := pick(img.Kind)
		opts.FileScanners, opts.ImageScanners = sc.files, sc.images
	}
	var bar *progressBar
	if !e.quiet && isTerminal(e.stderr) {
		bar = newProgressBar(e.stderr)
		opts.Walk.Progress = bar
	}
	res, err := catalog.Scan(ctx, img, opts)
	if bar != nil {
		bar.Finish()
	}
	if err == nil && len(res.Inventory.Warnings) > 0 {
		e.log.Warn(fmt.Sprintf("%d files could not be read completely; the report lists them (or run with --log-level info)", len(res.Inventory.Warnings)))
	}
	return res, err
}

// writeOutput writes to path atomically (a temporary file renamed into
// place), or to stdout when path is empty or "-". A failed write leaves
// no partial file behind.
func writeOutput(e *env, path string, write func(w *os.File) error) error {
	if path == "" || path == "-" {
		if f, ok := e.stdout.(*os.File); ok {
			return write(f)
		}
		tmp, err := os.CreateTemp("", "seawall-out-*")
		if err != nil {
			return err
		}
		defer os.Remove(tmp.Name())
		defer tmp.Close()
		if err := write(tmp); err != nil {
			return err
		}
		if _, err := tmp.Seek(0, 0); err != nil {
			return err
		}
		_, err = tmp.WriteTo(e.stdout)
		return err
	}
	if st, err := os.Stat(path); err == nil && !st.Mode().IsRegular() {
		// A device, FIFO or terminal (/dev/null, /dev/stdout, a named
		// pipe): write to it directly. Renaming over it would replace it.
		if st.IsDir() {
			return fmt.Errorf("write %s: is a directory; give a file name", path)
		}
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
		if err := write(f); err != nil {
			f.Close()
			return err
		}
		return f.Close()
	}
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	ok := false
	defer func() {
		if !ok {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err := write(tmp); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	ok = true
	return nil
}
