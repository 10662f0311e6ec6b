package cli

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/seawall-dev/seawall/internal/inventory"
	"github.com/seawall-dev/seawall/internal/verdict"
)

// policyFlags are the registry policy flags of `seawall project set`.
type policyFlags struct {
	scanOnPush       bool
	preventSeverity  string
	preventUnscanned bool
	ignoreUnfixed    bool
	requireSignature []string
	immutableTags    []string
	cveAllow         []string
	cveDisallow      []string
	allowlistFile    string
}

func (f *policyFlags) add(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.BoolVar(&f.scanOnPush, "scan-on-push", false, "scan every image pushed to the project (--scan-on-push=false to stop)")
	fl.StringVar(&f.preventSeverity, "prevent-severity", "", "refuse pulls (412) of images with a vulnerability at or above this severity: LOW, MEDIUM, HIGH, CRITICAL, or NONE to stop")
	fl.BoolVar(&f.preventUnscanned, "prevent-unscanned", false, "refuse pulls of images that have not been scanned yet")
	fl.BoolVar(&f.ignoreUnfixed, "ignore-unfixed", false, "do not count vulnerabilities that have no fix yet")
	fl.StringSliceVar(&f.requireSignature, "require-signature", nil, "refuse pulls of images without a cosign signature by one of these public keys (KEY.pub[,KEY2.pub]); '' to stop requiring one")
	fl.StringSliceVar(&f.immutableTags, "immutable-tags", nil, "tags matching these globs ('v*') can be pushed once and never moved or deleted; '' to clear")
	fl.StringArrayVar(&f.cveAllow, "cve-allow", nil, "accept a CVE in pulls: ID:expires=YYYY-MM-DD:reason=TEXT (repeatable; the same ID replaces its entry)")
	fl.StringArrayVar(&f.cveDisallow, "cve-disallow", nil, "remove a CVE from the allowlist (repeatable)")
	fl.StringVar(&f.allowlistFile, "cve-allowlist-file", "", "replace the whole allowlist with this .seawallignore file (vulnerabilities only)")
}

// patch builds the policy change from the flags the user gave; nil when
// none was given.
func (f *policyFlags) patch(cmd *cobra.Command) (map[string]any, error) {
	changed := cmd.Flags().Changed
	p := map[string]any{}
	if changed("scan-on-push") {
		p["scanOnPush"] = f.scanOnPush
	}
	if changed("prevent-severity") {
		s := strings.ToUpper(strings.TrimSpace(f.preventSeverity))
		if s != "NONE" && s != "" {
			if _, err := inventory.ParseSeverity(s); err != nil {
				return nil, usagef("--prevent-severity %q: use LOW, MEDIUM, HIGH, CRITICAL, UNKNOWN or NONE", f.preventSeverity)
			}
		}
		p["preventSeverity"] = s
	}
	if changed("prevent-unscanned") {
		p["preventUnscanned"] = f.preventUnscanned
	}
	if changed("ignore-unfixed") {
		p["ignoreUnfixed"] = f.ignoreUnfixed
	}
	if changed("require-signature") {
		var keys []string
		for _, path := range f.requireSignature {
			if path = strings.TrimSpace(path); path == "" {
				continue
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return nil, fmt.Errorf("--require-signature: %w", err)
			}
			keys = append(keys, string(b))
		}
		if len(keys) == 0 {
			p["clearTrustedKeys"] = true
		} else {
			p["trustedKeys"] = keys
		}
	}
	if changed("immutable-tags") {
		var pats []string
		for _, s := range f.immutableTags {
			if s = strings.TrimSpace(s); s != "" {
				pats = append(pats, s)
			}
		}
		if len(pats) == 0 {
			p["clearImmutableTags"] = true
		} else {
			p["immutableTags"] = pats
		}
	}
	if changed("cve-allowlist-file") {
		b, err := os.ReadFile(f.allowlistFile)
		if err != nil {
			return nil, fmt.Errorf("--cve-allowlist-file: %w", err)
		}
		p["allowlist"] = string(b)
	}
	var allow []verdict.AllowEntry
	for _, s := range f.cveAllow {
		a, err := verdict.ParseAllowFlag(s)
		if err != nil {
			return nil, usagef("%v", err)
		}
		allow = append(allow, a)
	}
	if len(allow) > 0 {
		p["allow"] = allow
	}
	if len(f.cveDisallow) > 0 {
		p["disallow"] = f.cveDisallow
	}
	if len(p) == 0 {
		return nil, nil
	}
	return p, nil
}

// policyOut is the API's answer about a policy.
type policyOut struct {
	Project string `json:"project"`
	verdict.Policy
	KeyFingerprints []string `json:"keyFingerprints"`
}

func printPolicy(w io.Writer, p *policyOut) {
	onOff := func(b bool) string {
		if b {
			return "on"
		}
		return "off"
	}
	sev := p.PreventSeverity
	if sev == "" {
		sev = "off"
	} else {
		sev = "refuse " + sev + " and above"
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "Project %s registry policy:\n", p.Project)
	fmt.Fprintf(tw, "  scan on push\t%s\n", onOff(p.ScanOnPush))
	fmt.Fprintf(tw, "  prevent severity\t%s\n", sev)
	fmt.Fprintf(tw, "  prevent unscanned\t%s\n", onOff(p.PreventUnscanned))
	fmt.Fprintf(tw, "  ignore unfixed\t%s\n", onOff(p.IgnoreUnfixed))
	if len(p.KeyFingerprints) == 0 {
		fmt.Fprintf(tw, "  require signature\toff\n")
	} else {
		fmt.Fprintf(tw, "  require signature\tby %s\n", strings.Join(p.KeyFingerprints, ", "))
	}
	tags := "none"
	if len(p.ImmutableTags) > 0 {
		tags = strings.Join(p.ImmutableTags, ", ")
	}
	fmt.Fprintf(tw, "  immutable tags\t%s\n", tags)
	tw.Flush()
	if f, err := p.AllowlistFile(); err == nil && f != nil && len(f.Entries) > 0 {
		fmt.Fprintln(w, "  CVE allowlist:")
		for _, e := range f.Entries {
			exp := "never expires"
			if !e.Expires.IsZero() {
				exp = "until " + e.Expires.Format(time.DateOnly)
			}
			fmt.Fprintf(w, "    %s (%s): %s\n", e.ID, exp, e.Reason)
		}
	}
}

// splitImage reads IMAGE as `seawall scan status` takes it:
// [HOST/]PROJECT/NAME[:TAG|@DIGEST]. A first component that looks like a
// host (a dot, a colon or "localhost") is the registry's and is dropped.
func splitImage(s string) (repo, ref string, err error) {
	name := s
	if at := strings.LastIndex(name, "@"); at >= 0 {
		name, ref = name[:at], name[at+1:]
	} else if c := strings.LastIndex(name, ":"); c > strings.LastIndex(name, "/") {
		name, ref = name[:c], name[c+1:]
	}
	parts := strings.Split(name, "/")
	if len(parts) > 2 && (strings.ContainsAny(parts[0], ".:") || parts[0] == "localhost") {
		parts = parts[1:]
	}
	if len(parts) < 2 || slices.Contains(parts, "") {
		return "", "", usagef("image %q: give PROJECT/NAME[:TAG|@DIGEST], optionally after the registry host", s)
	}
	if ref == "" {
		ref = "latest"
	}
	return strings.Join(parts, "/"), ref, nil
}

// scanStatusOut is the API's scan status.
type scanStatusOut struct {
	Repository string              `json:"repository"`
	Digest     string              `json:"digest"`
	Tag        string              `json:"tag"`
	Kind       string              `json:"kind"`
	Status     string              `json:"status"`
	Rescan     string              `json:"rescan"`
	Error      string              `json:"error"`
	ScannedAt  *time.Time          `json:"scannedAt"`
	MatchedAt  *time.Time          `json:"matchedAt"`
	DBBuiltAt  *time.Time          `json:"dbBuiltAt"`
	Verdict    *verdict.Verdict    `json:"verdict"`
	Findings   []inventory.Finding `json:"findings"`
	Children   []scanStatusOut     `json:"children"`
}

func newScanStatusCmd(e *env) *cobra.Command {
	var (
		sf     serverFlags
		format formatFlag
	)
	cmd := &cobra.Command{
		Use:   "status IMAGE",
		Short: "Show a pushed image's scan: verdict, findings, database build time, when scanned",
		Long: `Shows what the registry's scanner found in an image pushed to a Seawall server, and the verdict
the project's pull policy gives it now (the current policy and allowlist applied to the last scan).
Exits 0 when pulls are allowed and 2 when the policy refuses them.`,
		Example: "  seawall scan status registry.example.com/team/app:v1\n  seawall scan status team/app@sha256:… --format json",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := format.check(); err != nil {
				return err
			}
			repo, ref, err := splitImage(args[0])
			if err != nil {
				return err
			}
			c, err := sf.client()
			if err != nil {
				return err
			}
			var st scanStatusOut
			q := url.Values{"repository": {repo}, "reference": {ref}}
			if err := c.do(cmd.Context(), http.MethodGet, "/api/v1/scan?"+q.Encode(), nil, &st); err != nil {
				return err
			}
			if format.value == "json" {
				if err := printJSON(e.stdout, st); err != nil {
					return err
				}
			} else {
				printScanStatus(e.stdout, &st, "")
				for i := range st.Children {
					fmt.Fprintln(e.stdout)
					printScanStatus(e.stdout, &st.Children[i], "  ")
				}
			}
			if denied(&st) {
				return &exitError{code: 2}
			}
			return nil
		},
	}
	sf.add(cmd)
	format.add(cmd)
	return cmd
}

func denied(st *scanStatusOut) bool {
	if st.Verdict != nil && !st.Verdict.Allowed {
		return true
	}
	for i := range st.Children {
		if denied(&st.Children[i]) {
			return true
		}
	}
	return false
}

func printScanStatus(w io.Writer, st *scanStatusOut, indent string) {
	name := st.Repository + "@" + st.Digest
	if st.Tag != "" {
		name = st.Repository + ":" + st.Tag + " (" + st.Digest + ")"
	}
	fmt.Fprintf(w, "%s%s\n", indent, name)
	fmt.Fprintf(w, "%s  status:      %s", indent, st.Status)
	if st.Rescan != "" {
		fmt.Fprintf(w, " (rescan %s; the last verdict stands until it finishes)", st.Rescan)
	}
	fmt.Fprintln(w)
	if st.Error != "" {
		fmt.Fprintf(w, "%s  error:       %s\n", indent, st.Error)
	}
	if st.ScannedAt != nil {
		fmt.Fprintf(w, "%s  scanned:     %s\n", indent, st.ScannedAt.UTC().Format(time.RFC3339))
	}
	if st.MatchedAt != nil && (st.ScannedAt == nil || !st.MatchedAt.Equal(*st.ScannedAt)) {
		fmt.Fprintf(w, "%s  rematched:   %s\n", indent, st.MatchedAt.UTC().Format(time.RFC3339))
	}
	if st.DBBuiltAt != nil {
		fmt.Fprintf(w, "%s  database:    built %s\n", indent, st.DBBuiltAt.UTC().Format(time.RFC3339))
	}
	if v := st.Verdict; v != nil {
		word := "ALLOWED"
		if !v.Allowed {
			word = "DENIED"
		}
		fmt.Fprintf(w, "%s  verdict:     %s\n", indent, word)
		for _, c := range v.Checks {
			mark := "pass"
			if !c.Passed {
				mark = "FAIL"
			}
			fmt.Fprintf(w, "%s    %s %s: %s\n", indent, mark, c.Rule, c.Message)
		}
		if !v.NextChange.IsZero() {
			fmt.Fprintf(w, "%s    an allowlist entry in use expires at %s\n", indent, v.NextChange.UTC().Format(time.RFC3339))
		}
	}
	if st.Kind != "image" {
		return
	}
	counts := map[inventory.Severity]int{}
	accepted := 0
	for _, f := range st.Findings {
		if f.Suppression != nil {
			accepted++
			continue
		}
		counts[f.Severity]++
	}
	var parts []string
	for s := inventory.SeverityCritical; s >= inventory.SeverityUnknown; s-- {
		if counts[s] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[s], s))
		}
	}
	summary := "none"
	if len(parts) > 0 {
		summary = strings.Join(parts, ", ")
	}
	if accepted > 0 {
		summary += fmt.Sprintf(" (+%d allowlisted)", accepted)
	}
	fmt.Fprintf(w, "%s  findings:    %s\n", indent, summary)
	if len(st.Findings) == 0 {
		return
	}
	fs := slices.Clone(st.Findings)
	slices.SortStableFunc(fs, func(a, b inventory.Finding) int {
		if a.Severity != b.Severity {
			return int(b.Severity) - int(a.Severity)
		}
		return strings.Compare(a.ID, b.ID)
	})
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "%s  SEVERITY\tID\tPACKAGE\tINSTALLED\tFIXED\tNOTE\n", indent)
	for _, f := range fs {
		note := ""
		if f.Suppression != nil {
			note = "allowlisted: " + f.Suppression.Reason
		}
		fmt.Fprintf(tw, "%s  %s\t%s\t%s\t%s\t%s\t%s\n", indent, f.Severity, f.ID, f.PackageName, f.InstalledVersion, strings.Join(f.FixedVersions, ", "), note)
	}
	tw.Flush()
}

type rescanOut struct {
	Results     int       `json:"results"`
	Rematched   int       `json:"rematched"`
	Changed     int       `json:"changed"`
	QueuedScans int       `json:"queuedScans"`
	DBBuiltAt   time.Time `json:"dbBuiltAt"`
	TookText    string    `json:"tookText"`
}

func newRescanCmd(e *env) *cobra.Command {
	var (
		sf      serverFlags
		format  formatFlag
		project string
		all     bool
		full    bool
	)
	cmd := &cobra.Command{
		Use:   "rescan (--project P | --all)",
		Short: "Match every stored SBOM against the server's current vulnerability database",
		Long: `Matches the stored SBOM of every scanned image in a project (or, for system admins, in every
project) against the server's vulnerability database again, without reading any layer, and updates
the verdicts; changed verdicts go to the audit log and webhooks. Tagged images never scanned are
queued for a scan. The server also does this by itself whenever its database file is replaced.
With --full, every tagged image is scanned again from its layers, behind any pushes.`,
		Example: "  seawall rescan --project team\n  seawall rescan --all",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := format.check(); err != nil {
				return err
			}
			if all == (project != "") {
				return usagef("give --project P or --all")
			}
			c, err := sf.client()
			if err != nil {
				return err
			}
			var out rescanOut
			if err := c.do(cmd.Context(), http.MethodPost, "/api/v1/rescan", map[string]any{"project": project, "all": all, "full": full}, &out); err != nil {
				return err
			}
			if format.value == "json" {
				return printJSON(e.stdout, out)
			}
			if !full {
				fmt.Fprintf(e.stdout, "Rematched %s in %s against the database built %s: %s changed.\n",
					count(out.Rematched, "stored SBOM", "stored SBOMs"), out.TookText, out.DBBuiltAt.UTC().Format(time.RFC3339), count(out.Changed, "verdict", "verdicts"))
			}
			if out.QueuedScans > 0 || full {
				fmt.Fprintf(e.stdout, "Queued %s for a full scan.\n", count(out.QueuedScans, "image", "images"))
			}
			return nil
		},
	}
	sf.add(cmd)
	format.add(cmd)
	cmd.Flags().StringVar(&project, "project", "", "rescan this project")
	cmd.Flags().BoolVar(&all, "all", false, "rescan every project (system admins)")
	cmd.Flags().BoolVar(&full, "full", false, "read every image's layers again instead of rematching the stored SBOMs")
	return cmd
}

// count writes n with the noun's singular or plural.
func count(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
