package cli

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/seawall-dev/seawall/internal/buildinfo"
	"github.com/seawall-dev/seawall/internal/inventory"
	"github.com/seawall-dev/seawall/internal/report"
	"github.com/seawall-dev/seawall/internal/secret"
)

func newSBOMCmd(e *env) *cobra.Command {
	var (
		t      targetFlags
		format string
		output string
	)
	cmd := &cobra.Command{
		Use:   "sbom [IMAGE]",
		Short: "List every package in an image, root filesystem or source tree",
		Long: `List every package in an image, root filesystem or source tree (an SBOM).

IMAGE is a docker save archive, an OCI layout directory, an OCI archive, or a
registry reference such as registry.example:5000/team/app:1.2. A skopeo-style
prefix (docker-archive:, oci:, oci-archive:, docker://) forces the kind.`,
		Example: `  seawall sbom --rootfs /
  seawall sbom app.tar --format cyclonedx --output app.cdx.json
  seawall sbom registry.example:5000/team/app:1.2 --platform linux/arm64
  seawall sbom --dir . --format spdx`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !validFormat(format, report.SBOMFormats) {
				return usagef("unknown --format %q: choose one of %s", format, strings.Join(report.SBOMFormats, ", "))
			}
			meta, err := report.NewMeta(buildinfo.Version())
			if err != nil {
				return err
			}
			inv, err := t.inventory(cmd.Context(), e, args)
			if err != nil {
				return err
			}
			if err := redactHistory(cmd.Context(), e, inv); err != nil {
				return err
			}
			return writeOutput(e, output, func(w *os.File) error {
				if err := report.WriteSBOM(w, format, inv, meta); err != nil {
					return fmt.Errorf("write %s: %w", format, err)
				}
				return nil
			})
		},
	}
	t.add(cmd)
	cmd.Flags().StringVarP(&format, "format", "f", "table", "output format: "+strings.Join(report.SBOMFormats, ", "))
	cmd.Flags().StringVarP(&output, "output", "o", "", "write to this file instead of stdout")
	return cmd
}

func validFormat(f string, allowed []string) bool {
	f = strings.ToLower(f)
	for _, a := range allowed {
		if f == a || f == a+"-json" {
			return true
		}
	}
	return false
}

// redactHistory masks secrets in the layers' build commands (an image's
// history may record `RUN TOKEN=… ./fetch`), so that an SBOM, which is
// meant to be shared, never carries them; the secret scanner's default
// rules decide what a secret is, as in seawall scan.
func redactHistory(ctx context.Context, e *env, inv *inventory.Inventory) error {
	var s *secret.Scanner
	for i := range inv.Source.Layers {
		l := &inv.Source.Layers[i]
		if l.CreatedBy == "" {
			continue
		}
		if s == nil {
			var err error
			if s, err = secret.New(secret.DefaultConfig(), secret.Options{Logger: e.log.With("component", "secret")}); err != nil {
				return fmt.Errorf("secret rules: %w", err)
			}
		}
		l.CreatedBy = s.Redact(ctx, l.CreatedBy)
	}
	return nil
}
