package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/seawall-dev/seawall/internal/vulndb"
)

// dbFlag is --db: the vulnerability database's directory or file.
type dbFlag struct{ value string }

func (d *dbFlag) add(cmd *cobra.Command) {
	cmd.Flags().StringVar(&d.value, "db", os.Getenv("SEAWALL_DB"), "vulnerability database directory or file (default: the user cache directory; or SEAWALL_DB)")
}

// path returns the database file.
func (d *dbFlag) path() (string, error) {
	if d.value != "" {
		return vulndb.Path(d.value), nil
	}
	dir, err := vulndb.DefaultDir()
	if err != nil {
		return "", err
	}
	return vulndb.Path(dir), nil
}

func newDBCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "db",
		Short: "Manage the local OSV vulnerability database",
	}
	cmd.AddCommand(newDBImportCmd(e), newDBUpdateCmd(e), newDBInfoCmd(e), newDBBundleCmd(e))
	return cmd
}

func newDBImportCmd(e *env) *cobra.Command {
	var (
		db        dbFlag
		verifyKey string
		replace   bool
	)
	cmd := &cobra.Command{
		Use:   "import PATH_OR_URL...",
		Short: "Add OSV records from files, directories, all.zip archives, URLs or signed bundles",
		Example: `  seawall db import ./advisories/            # a directory of OSV .json/.yaml files
  seawall db import PyPI-all.zip Go-all.zip
  seawall db import https://osv-vulnerabilities.storage.googleapis.com/PyPI/all.zip
  seawall db import vulndb.tar --verify-key cosign.pub`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			path, err := db.path()
			if err != nil {
				return err
			}
			opts := vulndb.ImportOptions{Logger: e.log.With("component", "vulndb"), Replace: replace}
			if verifyKey != "" {
				if opts.VerifyKey, err = os.ReadFile(verifyKey); err != nil {
					return fmt.Errorf("--verify-key: %w", err)
				}
			}
			var inputs []vulndb.Input
			for _, a := range args {
				inputs = append(inputs, vulndb.Input{Location: a})
			}
			st, err := vulndb.Import(cmd.Context(), path, inputs, opts)
			if err != nil {
				return err
			}
			printWarnings(e, st.Warnings, st.WarningCount)
			fmt.Fprintf(e.stdout, "imported %d records from %d files in %s (%.0f records/s): %d new, %d updated, %d unchanged, %d rejected; %d records in %s\n",
				st.Records, st.Files, st.Duration.Round(time.Millisecond), st.RecordsPerSecond(), st.Added, st.Updated, st.Unchanged, st.Rejected, st.Total, path)
			return nil
		},
	}
	db.add(cmd)
	cmd.Flags().StringVar(&verifyKey, "verify-key", "", "public key (cosign.pub) that signed bundles must verify against")
	cmd.Flags().BoolVar(&replace, "replace", false, "start from an empty database instead of adding to the existing one")
	return cmd
}

func printWarnings(e *env, ws []vulndb.Warning, total int) {
	for _, w := range ws {
		e.log.Info("import: " + w.String())
	}
	if total > 0 {
		e.log.Warn(fmt.Sprintf("%d records or parts of records were skipped as malformed (run with --log-level info to see each)", total))
	}
}

func newDBUpdateCmd(e *env) *cobra.Command {
	var (
		db      dbFlag
		rebuild bool
		sources []string
	)
	cmd := &cobra.Command{
		Use:   "update",
		Short: "Fetch the configured sources (osv.dev's exports by default) and update the database",
		Long: `Fetch the configured sources and merge them into the database. Downloads are
conditional (ETag, Last-Modified) and resume where an interrupted one stopped.

--source NAME=URL (repeatable) replaces the configured sources, for example with
an internal mirror of osv.dev's exports; the list is kept for later updates.`,
		Example: `  seawall db update
  seawall db update --source PyPI=https://mirror.example/osv/PyPI/all.zip --source Go=https://mirror.example/osv/Go/all.zip`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			path, err := db.path()
			if err != nil {
				return err
			}
			dir := filepath.Dir(path)
			if len(sources) > 0 {
				var cfg []vulndb.SourceConfig
				for _, s := range sources {
					name, url, ok := strings.Cut(s, "=")
					if !ok || name == "" || !(strings.HasPrefix(url, "https://") || strings.HasPrefix(url, "http://")) {
						return usagef("--source %q: want NAME=URL, for example PyPI=https://mirror.example/PyPI/all.zip", s)
					}
					cfg = append(cfg, vulndb.SourceConfig{Name: name, URL: url})
				}
				if err := os.MkdirAll(dir, 0o755); err != nil {
					return err
				}
				if err := vulndb.SaveSources(dir, cfg); err != nil {
					return err
				}
			}
			st, err := vulndb.Update(cmd.Context(), dir, vulndb.UpdateOptions{Logger: e.log.With("component", "vulndb"), Rebuild: rebuild})
			for _, s := range st.Sources {
				line := fmt.Sprintf("%-12s %-13s %s", s.Name, s.Status, s.URL)
				if s.Error != "" {
					line += ": " + s.Error
				}
				fmt.Fprintln(e.stdout, line)
			}
			if err != nil {
				return err
			}
			if st.Import != nil {
				printWarnings(e, st.Import.Warnings, st.Import.WarningCount)
				fmt.Fprintf(e.stdout, "%d records in %s\n", st.Import.Total, path)
			} else {
				fmt.Fprintln(e.stdout, "the database is up to date")
			}
			return nil
		},
	}
	db.add(cmd)
	cmd.Flags().BoolVar(&rebuild, "rebuild", false, "build the database afresh from the sources instead of merging")
	cmd.Flags().StringArrayVar(&sources, "source", nil, "NAME=URL of an all.zip to fetch instead of the configured sources (repeatable; saved)")
	return cmd
}

func newDBInfoCmd(e *env) *cobra.Command {
	var (
		db     dbFlag
		format string
	)
	cmd := &cobra.Command{
		Use:   "info",
		Short: "Show the database's sources, record counts per ecosystem, build time and age",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if format != "table" && format != "json" {
				return usagef("unknown --format %q: choose table or json", format)
			}
			path, err := db.path()
			if err != nil {
				return err
			}
			d, err := vulndb.Open(path)
			if err != nil {
				return err
			}
			defer d.Close()
			info := d.Info()
			if format == "json" {
				enc := json.NewEncoder(e.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(map[string]any{
					"path": path, "builtAt": info.BuiltAt, "ageSeconds": int64(time.Since(info.BuiltAt).Seconds()),
					"records": info.Records, "ecosystems": info.Ecosystems, "sources": d.Sources(),
				})
			}
			fmt.Fprintf(e.stdout, "database  %s\nbuilt     %s (%s ago)\nrecords   %d\n\n", path,
				info.BuiltAt.UTC().Format(time.RFC3339), roundAge(time.Since(info.BuiltAt)), info.Records)
			tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "ECOSYSTEM\tRECORDS")
			ecos := make([]string, 0, len(info.Ecosystems))
			for k := range info.Ecosystems {
				ecos = append(ecos, k)
			}
			sort.Strings(ecos)
			for _, k := range ecos {
				fmt.Fprintf(tw, "%s\t%d\n", k, info.Ecosystems[k])
			}
			tw.Flush()
			fmt.Fprintln(e.stdout)
			tw = tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "SOURCE\tRECORDS\tFETCHED\tLOCATION")
			for _, s := range d.Sources() {
				fmt.Fprintf(tw, "%s\t%d\t%s\t%s\n", s.Name, s.Records, s.Fetched.UTC().Format(time.RFC3339), s.Location)
			}
			return tw.Flush()
		},
	}
	db.add(cmd)
	cmd.Flags().StringVarP(&format, "format", "f", "table", "output format: table or json")
	return cmd
}

func newDBBundleCmd(e *env) *cobra.Command {
	var (
		db      dbFlag
		out     string
		keyPath string
	)
	cmd := &cobra.Command{
		Use:   "bundle --out FILE --key KEY",
		Short: "Write a signed offline copy of the database for air-gapped sites",
		Long: `Write the database as a signed bundle that 'seawall db import FILE --verify-key
PUB' accepts on a machine without network access. KEY is a cosign key pair's
private key (cosign generate-key-pair) or a PEM private key; its password
comes from COSIGN_PASSWORD, or is asked for on a terminal.`,
		Example: `  COSIGN_PASSWORD=… seawall db bundle --out vulndb.tar --key cosign.key`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" || keyPath == "" {
				return usagef("both --out FILE and --key KEY are required")
			}
			path, err := db.path()
			if err != nil {
				return err
			}
			pemBytes, err := os.ReadFile(keyPath)
			if err != nil {
				return fmt.Errorf("--key: %w", err)
			}
			pw, err := keyPassword(e, pemBytes)
			if err != nil {
				return err
			}
			key, err := vulndb.LoadPrivateKey(pemBytes, pw)
			if err != nil {
				return err
			}
			m, err := vulndb.Bundle(cmd.Context(), path, out, key)
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "wrote %s: %d records, database built %s, signed by key %s\n", out, m.Records, m.BuiltAt.UTC().Format(time.RFC3339), vulndb.KeyID(key.Public()))
			return nil
		},
	}
	db.add(cmd)
	cmd.Flags().StringVarP(&out, "out", "o", "", "bundle file to write")
	cmd.Flags().StringVar(&keyPath, "key", "", "private key to sign with (cosign.key)")
	return cmd
}

// keyPassword returns the password of an encrypted private key: from
// COSIGN_PASSWORD, or asked on the terminal.
func keyPassword(e *env, pemBytes []byte) ([]byte, error) {
	if pw, ok := os.LookupEnv("COSIGN_PASSWORD"); ok {
		return []byte(pw), nil
	}
	if !strings.Contains(string(pemBytes), "ENCRYPTED") {
		return nil, nil
	}
	f, ok := e.stdin.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return nil, fmt.Errorf("the key is encrypted: set COSIGN_PASSWORD")
	}
	fmt.Fprint(e.stderr, "Enter password for private key: ")
	pw, err := term.ReadPassword(int(f.Fd()))
	fmt.Fprintln(e.stderr)
	return pw, err
}
