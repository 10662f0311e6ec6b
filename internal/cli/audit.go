package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/seawall-dev/seawall/internal/audit"
	"github.com/seawall-dev/seawall/internal/server"
	"github.com/seawall-dev/seawall/internal/store"
	"github.com/seawall-dev/seawall/internal/store/sqlite"
)

// auditSource is where the audit commands read: the server's API (the
// default), or with --data the server's SQLite file directly, which works
// while the server is down.
type auditSource struct {
	sf   serverFlags
	data string
}

func (a *auditSource) add(cmd *cobra.Command) {
	a.sf.add(cmd)
	cmd.Flags().StringVar(&a.data, "data", "", "read the SQLite store in this server data directory directly instead of asking the server")
}

// openStore opens DATA/seawall.db without creating it.
func (a *auditSource) openStore(ctx context.Context) (*sqlite.Store, error) {
	path := filepath.Join(a.data, "seawall.db")
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("--data %s: no seawall.db there (%w): give the directory `seawall serve --data` uses", a.data, err)
	}
	return sqlite.Open(ctx, path, nil)
}

func newAuditCmd(e *env) *cobra.Command {
	var (
		src     auditSource
		since   string
		project string
	)
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Export the server's audit log as JSON lines (system admins)",
		Long: `Print the audit log, one JSON object per line, oldest first: pushes, pulls, deletes, logins and
failed logins, role and policy changes, scan completions, verdict changes and blocked pulls.

The log is append-only and hash-chained: each entry's hash covers its content and the previous
entry's hash. 'seawall audit verify' recomputes the chain. See docs/reference/audit.md.`,
		Example: `  seawall audit --since 24h
  seawall audit --since 2026-11-01 --project team > team-audit.jsonl
  seawall audit --data /var/lib/seawall        # read the store directly`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if since != "" {
				if _, err := server.ParseSince(since, time.Now()); err != nil {
					return usagef("--%v", err)
				}
			}
			if src.data != "" {
				st, err := src.openStore(ctx)
				if err != nil {
					return err
				}
				defer st.Close()
				f := store.AuditFilter{Project: project}
				if since != "" {
					f.Since, _ = server.ParseSince(since, time.Now())
				}
				_, err = audit.Export(ctx, st, f, e.stdout)
				return err
			}
			c, err := src.sf.client()
			if err != nil {
				return err
			}
			q := url.Values{}
			if since != "" {
				q.Set("since", since)
			}
			if project != "" {
				q.Set("project", project)
			}
			path := "/api/v1/audit"
			if len(q) > 0 {
				path += "?" + q.Encode()
			}
			return c.stream(ctx, path, e.stdout)
		},
	}
	src.add(cmd)
	cmd.Flags().StringVar(&since, "since", "", "only entries since: a duration back from now (24h, 7d), a date or an RFC 3339 time")
	cmd.Flags().StringVar(&project, "project", "", "only entries about this project")
	cmd.AddCommand(newAuditVerifyCmd(e))
	return cmd
}

func newAuditVerifyCmd(e *env) *cobra.Command {
	var (
		src    auditSource
		format formatFlag
	)
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Recompute the audit log's hash chain; exit 1 and name the first bad entry if it was tampered with",
		Example: `  seawall audit verify
  seawall audit verify --data /var/lib/seawall`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := format.check(); err != nil {
				return err
			}
			ctx := cmd.Context()
			var rep audit.Report
			if src.data != "" {
				st, err := src.openStore(ctx)
				if err != nil {
					return err
				}
				defer st.Close()
				if rep, err = audit.Verify(ctx, st); err != nil {
					return err
				}
			} else {
				c, err := src.sf.client()
				if err != nil {
					return err
				}
				if err := c.do(ctx, http.MethodGet, "/api/v1/audit/verify", nil, &rep); err != nil {
					return err
				}
			}
			if format.value == "json" {
				if err := printJSON(e.stdout, rep); err != nil {
					return err
				}
			} else if rep.OK {
				fmt.Fprintf(e.stdout, "The audit log is intact: %d entries, chain head %d %s.\n", rep.Entries, rep.HeadSeq, rep.HeadHash)
			} else {
				fmt.Fprintf(e.stdout, "The audit log was TAMPERED WITH: entry %d: %s.\n", rep.FirstBad.Seq, rep.FirstBad.Reason)
				if en := rep.FirstBad.Entry; en != nil {
					fmt.Fprintf(e.stdout, "As stored: %s %s by %q at %s.\n", en.Kind, strings.TrimSpace(en.Repo+" "+en.Digest), en.Actor, en.Time.UTC().Format(time.RFC3339))
				}
				fmt.Fprintf(e.stdout, "Entries before %d verify (%d read). Restore the store from a backup and compare with an earlier export.\n", rep.FirstBad.Seq, rep.Entries)
			}
			if !rep.OK {
				return &exitError{code: ExitError}
			}
			return nil
		},
	}
	src.add(cmd)
	format.add(cmd)
	return cmd
}

// stream copies a raw answer (JSON lines) to w.
func (c *apiClient) stream(ctx context.Context, path string, w io.Writer) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+path, nil)
	if err != nil {
		return err
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return err
		}
		return fmt.Errorf("cannot reach %s: %w (is the server running, and the URL right?)", c.base, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		return c.apiErr(resp.StatusCode, b, path)
	}
	_, err = io.Copy(w, resp.Body)
	return err
}
