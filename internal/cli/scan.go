package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/seawall-dev/seawall/internal/buildinfo"
	"github.com/seawall-dev/seawall/internal/dockerfile"
	"github.com/seawall-dev/seawall/internal/gate"
	"github.com/seawall-dev/seawall/internal/image"
	"github.com/seawall-dev/seawall/internal/imgconf"
	"github.com/seawall-dev/seawall/internal/inventory"
	"github.com/seawall-dev/seawall/internal/malware"
	"github.com/seawall-dev/seawall/internal/match"
	"github.com/seawall-dev/seawall/internal/policy/ignore"
	"github.com/seawall-dev/seawall/internal/report"
	"github.com/seawall-dev/seawall/internal/secret"
	"github.com/seawall-dev/seawall/internal/vex"
	"github.com/seawall-dev/seawall/internal/vulndb"
)

func newScanCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "scan",
		Short: "Scan images, root filesystems, source trees and Dockerfiles for risks",
	}
	cmd.AddCommand(newScanImageCmd(e), newScanConfigCmd(e), newScanStatusCmd(e))
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
	scanners      string
	secretConfig  string
	yaraRules     string
	malwareHashes []string
}

func newScanImageCmd(e *env) *cobra.Command {
	var f scanFlags
	cmd := &cobra.Command{
		Use:   "image [IMAGE]",
		Short: "Find vulnerabilities, secrets, malware and risky configuration in an image, root filesystem or source tree",
		Long: `Find known vulnerabilities in the packages of an image, a root filesystem
or a source tree (using the local OSV vulnerability database), secrets in its
files and config, malware, and risky configuration of the image and of the
Dockerfiles in a source tree, in one pass over the files.

IMAGE is anything 'seawall sbom' reads: a docker save archive, an OCI layout
or archive, or a registry reference. The exit code is 0 unless --exit-code is
given and findings remain after the filters.`,
		Example: `  seawall scan image app.tar
  seawall scan image registry.example:5000/team/app:1.2 --severity CRITICAL,HIGH --exit-code 1
  seawall scan image --rootfs / --ignore-unfixed
  seawall scan image app.tar --scanners secret,malware --malware-hashes bad-sha256.txt
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
	fl.StringVar(&f.scanners, "scanners", strings.Join(allScanners, ","), "what to look for, comma-separated: "+strings.Join(allScanners, ", "))
	fl.StringVar(&f.secretConfig, "secret-config", "", "secret rules: a gitleaks TOML config or a Seawall YAML rule file (default: the built-in rules)")
	fl.StringVar(&f.yaraRules, "yara-rules", "", "directory (or file) of YARA rules to run on every file; needs a build with YARA (see seawall version)")
	fl.StringArrayVar(&f.malwareHashes, "malware-hashes", nil, "file of known-bad SHA-256 hashes, one a line with an optional name (repeatable)")
	return cmd
}

// The scanners --scanners chooses from.
const (
	scannerVuln    = "vuln"
	scannerSecret  = "secret"
	scannerMalware = "malware"
	scannerConfig  = "config"
)

var allScanners = []string{scannerVuln, scannerSecret, scannerMalware, scannerConfig}

// scannerKinds maps scanners to the kinds of finding they make.
var scannerKinds = map[string]string{
	scannerVuln:    inventory.KindVulnerability,
	scannerSecret:  inventory.KindSecret,
	scannerMalware: inventory.KindMalware,
	scannerConfig:  inventory.KindMisconfiguration,
}

// parseScanners reads --scanners: names from allScanners, comma-separated,
// in any order and case; "all" is every one.
func parseScanners(s string) ([]string, error) {
	var out []string
	for _, p := range strings.Split(s, ",") {
		p = strings.ToLower(strings.TrimSpace(p))
		switch {
		case p == "":
			continue
		case p == "all":
			return slices.Clone(allScanners), nil
		case p == "vulnerability", p == "vulnerabilities":
			p = scannerVuln
		case p == "secrets":
			p = scannerSecret
		case p == "misconfig", p == "misconfiguration":
			p = scannerConfig
		}
		if !slices.Contains(allScanners, p) {
			return nil, fmt.Errorf("--scanners: unknown scanner %q: use %s", p, strings.Join(allScanners, ", "))
		}
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("--scanners is empty: name at least one of " + strings.Join(allScanners, ", "))
	}
	// Report order, whatever the order given.
	slices.SortFunc(out, func(a, b string) int { return slices.Index(allScanners, a) - slices.Index(allScanners, b) })
	return out, nil
}

// riskScanners are the secret, malware and configuration scanners of a
// scan, built before the walk so that a bad rule file fails at once.
type riskScanners struct {
	secret  *secret.Scanner
	malware *malware.Scanner
	config  bool
}

func newRiskScanners(ctx context.Context, e *env, f *scanFlags, chosen []string) (*riskScanners, error) {
	rs := &riskScanners{config: slices.Contains(chosen, scannerConfig)}
	if slices.Contains(chosen, scannerSecret) {
		cfg := secret.DefaultConfig()
		if f.secretConfig != "" {
			var err error
			if cfg, err = secret.LoadConfig(f.secretConfig); err != nil {
				return nil, err
			}
		}
		s, err := secret.New(cfg, secret.Options{Logger: e.log.With("component", "secret")})
		if err != nil {
			return nil, err
		}
		rs.secret = s
	}
	if slices.Contains(chosen, scannerMalware) {
		opts := malware.Options{HashLists: f.malwareHashes, YARARules: f.yaraRules, Logger: e.log.With("component", "malware")}
		m, err := malware.New(ctx, opts)
		if errors.Is(err, malware.ErrYARAOff) {
			// An error, not a notice: a scan that silently skipped the
			// rules it was given would pass a gate it should fail.
			return nil, fmt.Errorf("--yara-rules %s: %w", f.yaraRules, err)
		}
		if err != nil {
			return nil, err
		}
		rs.malware = m
	}
	return rs, nil
}

// pick chooses the plug-ins for a source: the image checks for images
// and root filesystems, the Dockerfile checks for source trees.
func (rs *riskScanners) pick(kind string) scanners {
	var sc scanners
	if rs.secret != nil {
		sc.files = append(sc.files, rs.secret)
		sc.images = append(sc.images, rs.secret.ImageScanner())
	}
	if rs.malware != nil {
		sc.files = append(sc.files, rs.malware)
	}
	if rs.config {
		if kind == image.KindDir {
			sc.files = append(sc.files, dockerfile.NewScanner())
		} else {
			c := imgconf.New()
			sc.files = append(sc.files, c)
			sc.images = append(sc.images, c)
		}
	}
	return sc
}

// afterScan collects what the scanners could not check.
func (rs *riskScanners) afterScan() []string {
	if rs.malware != nil {
		return rs.malware.Notices()
	}
	return nil
}

// dedupeSecretChecks drops a configuration check's "named like a secret"
// finding where the secret scanner found the secret itself at the same
// place: the secret finding says more (which kind of secret, masked).
func dedupeSecretChecks(fs []inventory.Finding) []inventory.Finding {
	type place struct {
		path string
		line int
	}
	secrets := map[place]bool{}
	for _, f := range fs {
		if f.Kind == inventory.KindSecret {
			secrets[place{f.Location.Path, f.Line}] = true
		}
	}
	if len(secrets) == 0 {
		return fs
	}
	out := fs[:0]
	for _, f := range fs {
		if (f.ID == imgconf.IDSecretEnv || f.ID == dockerfile.IDSecretArgEnv) && secrets[place{f.Location.Path, f.Line}] {
			continue
		}
		out = append(out, f)
	}
	return out
}

func runScan(cmd *cobra.Command, e *env, f *scanFlags, args []string) error {
	ctx := cmd.Context()
	if !validReportFormat(f.format) {
		return usagef("unknown --format %q: choose one of %s", f.format, strings.Join(report.ReportFormats, ", "))
	}
	chosen, err := parseScanners(f.scanners)
	if err != nil {
		return &usageError{err.Error()}
	}
	for flag, needs := range map[string]string{"secret-config": scannerSecret, "yara-rules": scannerMalware, "malware-hashes": scannerMalware} {
		if cmd.Flags().Changed(flag) && !slices.Contains(chosen, needs) {
			return usagef("--%s needs the %s scanner, which --scanners %s leaves out", flag, needs, f.scanners)
		}
	}
	vulns := slices.Contains(chosen, scannerVuln)
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

	rs, err := newRiskScanners(ctx, e, f, chosen)
	if err != nil {
		return err
	}

	var (
		db      *vulndb.DB
		info    inventory.DBInfo
		notices []string
	)
	if vulns {
		dbPath, err := f.db.path()
		if err != nil {
			return err
		}
		if db, err = vulndb.Open(dbPath); err != nil {
			return err
		}
		defer db.Close()
		info = db.Info()
		if age := time.Since(info.BuiltAt); age > f.maxAge {
			msg := fmt.Sprintf("the vulnerability database was built %s ago (at %s), more than --db-max-age %s; run `seawall db update`",
				roundAge(age), info.BuiltAt.UTC().Format(time.RFC3339), f.maxAge)
			if f.strict {
				return errors.New(msg)
			}
			e.log.Warn(msg)
			notices = append(notices, msg)
		}
	}

	scanned, err := f.target.scan(ctx, e, args, rs.pick)
	if err != nil {
		return err
	}
	inv := scanned.Inventory
	notices = append(notices, rs.afterScan()...)
	r := &inventory.Report{Inventory: *inv}
	if vulns {
		findings, notCovered, err := match.Match(ctx, inv, db, match.Options{Logger: e.log.With("component", "match")})
		if err != nil {
			return err
		}
		r.Findings, r.NotCovered, r.DB = findings, notCovered, &info
	}
	r.Findings = append(r.Findings, dedupeSecretChecks(scanned.Findings)...)
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
	for _, sc := range chosen {
		opts.Kinds = append(opts.Kinds, scannerKinds[sc])
	}
	return writeReport(e, f.output, f.format, r, meta, opts, res.ExitCode)
}

// writeReport writes the scan report r to output (stdout when empty) in
// format, in color only on a terminal without NO_COLOR, and then returns
// the gate's exit code as an error when it is not 0.
func writeReport(e *env, output, format string, r *inventory.Report, meta report.Meta, opts report.ReportOptions, exitCode int) error {
	err := writeOutput(e, output, func(w *os.File) error {
		o := opts
		o.Color = output == "" && isTerminal(w) && os.Getenv("NO_COLOR") == ""
		if err := report.WriteReport(w, format, r, meta, o); err != nil {
			return fmt.Errorf("write %s: %w", format, err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if exitCode != 0 {
		return &exitError{code: exitCode}
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
