package cli

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/seawall-dev/seawall/internal/buildinfo"
	"github.com/seawall-dev/seawall/internal/catalog"
	"github.com/seawall-dev/seawall/internal/dockerfile"
	"github.com/seawall-dev/seawall/internal/gate"
	"github.com/seawall-dev/seawall/internal/image"
	"github.com/seawall-dev/seawall/internal/inventory"
	"github.com/seawall-dev/seawall/internal/policy/ignore"
	"github.com/seawall-dev/seawall/internal/report"
)

// configFlags are the settings of `seawall scan config`.
type configFlags struct {
	format, output, severity, ignoreFile string
	exitCode                             int
}

func newScanConfigCmd(e *env) *cobra.Command {
	var f configFlags
	cmd := &cobra.Command{
		Use:   "config PATH",
		Short: "Check Dockerfiles for risky configuration",
		Long: `Check Dockerfiles and Containerfiles for risky configuration: a root user,
secrets in ARG or ENV, ADD from URLs, sensitive ports, unpinned base images,
missing health checks, sudo or SSH servers, package-manager caches, set-ID
bits and world-writable system paths (see docs/reference/scan-config.md for
every check and its CIS Docker Benchmark recommendation).

PATH is a Dockerfile (whatever its name) or a directory, searched for files
named Dockerfile, Containerfile, Dockerfile.* and *.Dockerfile. Nothing is
built and nothing is fetched.`,
		Example: `  seawall scan config .
  seawall scan config build/api.Dockerfile --severity HIGH,CRITICAL --exit-code 1
  seawall scan config . --format sarif --output config.sarif`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runScanConfig(cmd, e, &f, args[0])
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&f.format, "format", "f", "table", "output format: "+strings.Join(report.ReportFormats, ", "))
	fl.StringVarP(&f.output, "output", "o", "", "write to this file instead of stdout")
	fl.StringVarP(&f.severity, "severity", "s", "", "report only these severities, comma-separated (UNKNOWN,LOW,MEDIUM,HIGH,CRITICAL)")
	fl.IntVar(&f.exitCode, "exit-code", 0, "exit with this code when findings remain after the filters (0: never fail)")
	fl.StringVar(&f.ignoreFile, "ignorefile", ignore.DefaultFile, "file of accepted findings (read when it exists)")
	return cmd
}

// sourceDockerfile is the source type of a report on one Dockerfile.
const sourceDockerfile = "dockerfile"

func runScanConfig(cmd *cobra.Command, e *env, f *configFlags, path string) error {
	ctx := cmd.Context()
	if !validReportFormat(f.format) {
		return usagef("unknown --format %q: choose one of %s", f.format, strings.Join(report.ReportFormats, ", "))
	}
	var sevs []inventory.Severity
	if f.severity != "" {
		var err error
		if sevs, err = gate.ParseSeverities(f.severity); err != nil {
			return &usageError{err.Error()}
		}
	}
	if f.exitCode < 0 || f.exitCode > 125 {
		return usagef("--exit-code %d: use 0 to never fail, or 1 to 125", f.exitCode)
	}
	meta, err := report.NewMeta(buildinfo.Version())
	if err != nil {
		return err
	}
	ign, err := loadIgnore(f.ignoreFile, cmd.Flags().Changed("ignorefile"))
	if err != nil {
		return err
	}
	st, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("scan config: %w", err)
	}

	r := &inventory.Report{}
	var notices []string
	if !st.IsDir() {
		findings, err := dockerfile.CheckFile(path)
		if err != nil {
			return err
		}
		r.Source = inventory.Source{Type: sourceDockerfile, Name: path}
		r.Findings = findings
	} else {
		img, err := image.OpenTree(path, image.KindDir)
		if err != nil {
			return err
		}
		defer img.Close()
		tmp := image.NewTempDir("")
		defer tmp.Close()
		files := &countingScanner{FileScanner: dockerfile.NewScanner()}
		res, err := catalog.Scan(ctx, img, catalog.Options{
			FileScanners: []catalog.FileScanner{files},
			Logger:       e.log.With("component", "config"),
			Walk:         image.WalkOptions{Temp: tmp},
		})
		if err != nil {
			return err
		}
		r.Inventory = *res.Inventory
		r.Findings = res.Findings
		if files.n == 0 {
			msg := fmt.Sprintf("no Dockerfiles in %s: looked for files named Dockerfile, Containerfile, Dockerfile.* and *.Dockerfile", path)
			e.log.Warn(msg)
			notices = append(notices, msg)
		}
		for _, w := range r.Warnings {
			e.log.Warn(w)
		}
	}

	res, err := gate.Apply(r, gate.Options{Severities: sevs, ExitCode: f.exitCode, Ignore: ign, Now: time.Now()})
	if err != nil {
		return err
	}
	for _, n := range res.Notices {
		e.log.Warn(n)
	}
	opts := report.ReportOptions{
		Notices:    append(notices, res.Notices...),
		Severities: sevs,
		Filtered:   res.Filtered,
		Kinds:      []string{inventory.KindMisconfiguration},
	}
	return writeReport(e, f.output, f.format, r, meta, opts, res.ExitCode)
}

// countingScanner counts the files a scanner was handed.
type countingScanner struct {
	catalog.FileScanner
	n int
}

func (c *countingScanner) Wants(path string, mode os.FileMode) bool {
	ok := c.FileScanner.Wants(path, mode)
	if ok {
		c.n++
	}
	return ok
}
