package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/seawall-dev/seawall/internal/buildinfo"
	"github.com/seawall-dev/seawall/internal/gate"
	"github.com/seawall-dev/seawall/internal/inventory"
	"github.com/seawall-dev/seawall/internal/match"
	"github.com/seawall-dev/seawall/internal/policy/ignore"
	"github.com/seawall-dev/seawall/internal/report"
	"github.com/seawall-dev/seawall/internal/vex"
	"github.com/seawall-dev/seawall/internal/vulndb"
)

func newScanCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "scan",
		Short: "Scan images, root filesystems and source trees for vulnerabilities",
	}
	cmd.AddCommand(newScanImageCmd(e))
	return cmd
}

// scanFlags are the settings of `seawall scan image`.
type scanFlags struct {
	target        targetFlags
	db            dbFlag
	format        string
	output        string
	severity      string
	exitCode      int
	ignoreUnfixed bool
	ignoreFile    string
	vex           []string
	maxAge        time.Duration
	strict        bool
}

func newScanImageCmd(e *env) *cobra.Command {
	var f scanFlags
	cmd := &cobra.Command{
		Use:   "image [IMAGE]",
		Short: "Find known vulnerabilities in an image, root filesystem or source tree",
		Long: `Find known vulnerabilities in the packages of an image, a root filesystem
or a source tree, using the local OSV vulnerability database.

IMAGE is anything 'seawall sbom' reads: a docker save archive, an OCI layout
or archive, or a registry reference. The exit code is 0 unless --exit-code is
given and findings remain after the filters.`,
		Example: `  seawall scan image app.tar
  seawall scan image registry.example:5000/team/app:1.2 --severity CRITICAL,HIGH --exit-code 1
  seawall scan image --rootfs / --ignore-unfixed
  seawall scan image --dir . --format sarif --output results.sarif`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runScan(cmd, e, &f, args)
		},
	}
	f.target.add(cmd)
	f.db.add(cmd)
	fl := cmd.Flags()
	fl.StringVarP(&f.format, "format", "f", "table", "output format: "+strings.Join(report.ReportFormats, ", "))
	fl.StringVarP(&f.output, "output", "o", "", "write to this file instead of stdout")
	fl.StringVarP(&f.severity, "severity", "s", "", "report only these severities, comma-separated (UNKNOWN,LOW,MEDIUM,HIGH,CRITICAL)")
	fl.IntVar(&f.exitCode, "exit-code", 0, "exit with this code when findings remain after the filters (0: never fail)")
	fl.BoolVar(&f.ignoreUnfixed, "ignore-unfixed", false, "drop findings that have no fixed version")
	fl.StringVar(&f.ignoreFile, "ignorefile", ignore.DefaultFile, "file of accepted findings (read when it exists)")
	fl.StringArrayVar(&f.vex, "vex", nil, "OpenVEX document whose not_affected statements suppress findings (repeatable)")
	fl.DurationVar(&f.maxAge, "db-max-age", 7*24*time.Hour, "warn when the vulnerability database is older than this")
	fl.BoolVar(&f.strict, "strict", false, "fail instead of warning when the database is older than --db-max-age")
	return cmd
}

func runScan(cmd *cobra.Command, e *env, f *scanFlags, args []string) error {
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
	if f.maxAge <= 0 {
		return usagef("--db-max-age must be positive, for example 72h")
	}
	meta, err := report.NewMeta(buildinfo.Version())
	if err != nil {
		return err
	}
	ign, err := loadIgnore(f.ignoreFile, cmd.Flags().Changed("ignorefile"))
	if err != nil {
		return err
	}
	var docs []*vex.Document
	for _, p := range f.vex {
		d, err := vex.Load(p)
		if err != nil {
			return err
		}
		docs = append(docs, d)
	}

	dbPath, err := f.db.path()
	if err != nil {
		return err
	}
	db, err := vulndb.Open(dbPath)
	if err != nil {
		return err
	}
	defer db.Close()
	info := db.Info()
	var notices []string
	if age := time.Since(info.BuiltAt); age > f.maxAge {
		msg := fmt.Sprintf("the vulnerability database was built %s ago (at %s), more than --db-max-age %s; run `seawall db update`",
			roundAge(age), info.BuiltAt.UTC().Format(time.RFC3339), f.maxAge)
		if f.strict {
			return errors.New(msg)
		}
		e.log.Warn(msg)
		notices = append(notices, msg)
	}

	inv, err := f.target.inventory(ctx, e, args)
	if err != nil {
		return err
	}
	findings, notCovered, err := match.Match(ctx, inv, db, match.Options{Logger: e.log.With("component", "match")})
	if err != nil {
		return err
	}
	r := &inventory.Report{Inventory: *inv, Findings: findings, NotCovered: notCovered, DB: &info}
	res, err := gate.Apply(r, gate.Options{
		Severities:    sevs,
		IgnoreUnfixed: f.ignoreUnfixed,
		ExitCode:      f.exitCode,
		Ignore:        ign,
		VEX:           docs,
		Now:           time.Now(),
	})
	if err != nil {
		return err
	}
	for _, n := range res.Notices {
		e.log.Warn(n)
	}
	notices = append(notices, res.Notices...)
	opts := report.ReportOptions{
		Notices:       notices,
		Severities:    sevs,
		IgnoreUnfixed: f.ignoreUnfixed,
		Filtered:      res.Filtered,
	}
	err = writeOutput(e, f.output, func(w *os.File) error {
		o := opts
		o.Color = f.output == "" && isTerminal(w) && os.Getenv("NO_COLOR") == ""
		if err := report.WriteReport(w, f.format, r, meta, o); err != nil {
			return fmt.Errorf("write %s: %w", f.format, err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if res.ExitCode != 0 {
		return &exitError{code: res.ExitCode}
	}
	return nil
}

// loadIgnore reads the ignore file. The default file is optional; one the
// user named must exist.
func loadIgnore(path string, named bool) (*ignore.File, error) {
	if path == "" {
		return nil, nil
	}
	f, err := ignore.Load(path)
	if err != nil {
		if !named && errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return nil, err
	}
	return f, nil
}

func validReportFormat(f string) bool {
	f = strings.ToLower(f)
	for _, a := range report.ReportFormats {
		if f == a || ((a == report.FormatCycloneDX || a == report.FormatSPDX) && f == a+"-json") {
			return true
		}
	}
	return false
}

func roundAge(d time.Duration) string {
	switch {
	case d >= 48*time.Hour:
		return fmt.Sprintf("%d days", int(d.Hours()/24))
	case d >= time.Hour:
		return fmt.Sprintf("%d hours", int(d.Hours()))
	}
	return d.Round(time.Minute).String()
}

var _ match.Advisories = (*vulndb.DB)(nil)
