package cli

import (
	"fmt"
	"net/http"

	"github.com/spf13/cobra"
)

func newGCCmd(e *env) *cobra.Command {
	var (
		sf     serverFlags
		dryRun bool
		format formatFlag
	)
	cmd := &cobra.Command{
		Use:   "gc",
		Short: "Garbage-collect the registry: delete unreferenced blobs and stale uploads (system admins)",
		Long: `Ask the server to mark and sweep: blobs that no manifest references (except those
pushed within registry.gc_grace), upload sessions idle past registry.upload_ttl and
partial uploads without a session are deleted. It is safe while pushes run.
--dry-run reports what would be deleted and deletes nothing.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := format.check(); err != nil {
				return err
			}
			c, err := sf.client()
			if err != nil {
				return err
			}
			var st struct {
				DryRun          bool     `json:"dryRun"`
				LiveBlobs       int      `json:"liveBlobs"`
				BlobsScanned    int      `json:"blobsScanned"`
				BlobsDeleted    int      `json:"blobsDeleted"`
				BytesFreed      int64    `json:"bytesFreed"`
				Deleted         []string `json:"deleted"`
				UploadsExpired  int      `json:"uploadsExpired"`
				OrphanUploads   int      `json:"orphanUploads"`
				DurationSeconds float64  `json:"durationSeconds"`
			}
			if err := c.do(cmd.Context(), http.MethodPost, "/api/v1/gc", map[string]bool{"dryRun": dryRun}, &st); err != nil {
				return err
			}
			if format.value == "json" {
				return printJSON(e.stdout, st)
			}
			verb := "deleted"
			if st.DryRun {
				verb = "would delete"
				for _, d := range st.Deleted {
					fmt.Fprintln(e.stdout, d)
				}
			}
			fmt.Fprintf(e.stdout, "%d blobs scanned, %d live; %s %d blobs (%s), %d expired upload sessions and %d orphaned partial uploads in %.1fs\n",
				st.BlobsScanned, st.LiveBlobs, verb, st.BlobsDeleted, mebibytes(st.BytesFreed), st.UploadsExpired, st.OrphanUploads, st.DurationSeconds)
			return nil
		},
	}
	sf.add(cmd)
	format.add(cmd)
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "report what would be deleted; delete nothing")
	return cmd
}

func mebibytes(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }
