package cli

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
)

type webhookOut struct {
	ID        int64     `json:"id"`
	Project   string    `json:"project,omitempty"`
	URL       string    `json:"url"`
	Events    []string  `json:"events"`
	Disabled  bool      `json:"disabled"`
	CreatedAt time.Time `json:"createdAt"`
	CreatedBy string    `json:"createdBy"`
	Secret    string    `json:"secret,omitempty"`
}

type deliveryOut struct {
	ID          int64      `json:"id"`
	Event       string     `json:"event"`
	State       string     `json:"state"`
	Attempts    int        `json:"attempts"`
	NextAttempt *time.Time `json:"nextAttempt,omitempty"`
	LastStatus  int        `json:"lastStatus,omitempty"`
	LastError   string     `json:"lastError,omitempty"`
	CreatedAt   time.Time  `json:"createdAt"`
	UpdatedAt   time.Time  `json:"updatedAt"`
}

// webhookBase is the API path of a project's webhooks, or of the
// server-wide ones.
func webhookBase(project string, serverWide bool) (string, error) {
	switch {
	case serverWide && project != "":
		return "", usagef("give a PROJECT or --server-wide, not both")
	case serverWide:
		return "/api/v1/webhooks", nil
	case project == "":
		return "", usagef("give a PROJECT, or --server-wide for a webhook that receives every project's events")
	}
	return "/api/v1/projects/" + url.PathEscape(project) + "/webhooks", nil
}

func newWebhookCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "webhook",
		Short: "Send registry events to HTTP endpoints: add, list, remove, and see deliveries",
		Long: `A webhook receives signed POSTs for a project's events: by default pushes, completed scans,
verdict changes and blocked pulls. Each POST carries X-Seawall-Signature (HMAC-SHA256 over the
timestamp and body, keyed with the webhook's secret) and X-Seawall-Timestamp; failed deliveries
are retried with exponential backoff from a queue that survives restarts.
See docs/reference/webhooks.md for the payload and how to verify it.`,
	}
	cmd.AddCommand(newWebhookAddCmd(e), newWebhookListCmd(e), newWebhookRemoveCmd(e), newWebhookDeliveriesCmd(e))
	return cmd
}

func newWebhookAddCmd(e *env) *cobra.Command {
	var (
		sf          serverFlags
		evs         []string
		serverWide  bool
		secretStdin bool
	)
	cmd := &cobra.Command{
		Use:   "add [PROJECT] URL",
		Short: "Add a webhook; prints its secret once",
		Example: `  seawall webhook add team https://ci.example.com/seawall
  seawall webhook add team https://chat.example.com/hook --events push,pull-blocked
  seawall webhook add --server-wide https://siem.example.com/seawall --events login-failed,role-change,policy-change`,
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			project, target := "", args[len(args)-1]
			if len(args) == 2 {
				project = args[0]
			}
			base, err := webhookBase(project, serverWide)
			if err != nil {
				return err
			}
			req := map[string]any{"url": target}
			var kinds []string
			for _, ev := range evs {
				for k := range strings.SplitSeq(ev, ",") {
					if k = strings.TrimSpace(k); k != "" {
						kinds = append(kinds, k)
					}
				}
			}
			if len(kinds) > 0 {
				req["events"] = kinds
			}
			if secretStdin {
				s, err := readSecret(e, "", true)
				if err != nil {
					return err
				}
				req["secret"] = s
			}
			c, err := sf.client()
			if err != nil {
				return err
			}
			var h webhookOut
			if err := c.do(cmd.Context(), http.MethodPost, base, req, &h); err != nil {
				return err
			}
			scope := "project " + h.Project
			if h.Project == "" {
				scope = "every project"
			}
			fmt.Fprintf(e.stdout, "Added webhook %d for %s: %s\nEvents: %s\n", h.ID, scope, h.URL, strings.Join(h.Events, ", "))
			if !secretStdin {
				fmt.Fprintf(e.stdout, "Secret (shown only now; the receiver checks X-Seawall-Signature with it):\n%s\n", h.Secret)
			}
			return nil
		},
	}
	sf.add(cmd)
	cmd.Flags().StringSliceVar(&evs, "events", nil, "event kinds to send (default push,scan-completed,verdict-change,pull-blocked; also pull, delete, login, login-failed, role-change, policy-change)")
	cmd.Flags().BoolVar(&serverWide, "server-wide", false, "receive every project's events (system admins)")
	cmd.Flags().BoolVar(&secretStdin, "secret-stdin", false, "read the secret from stdin instead of generating one")
	return cmd
}

func newWebhookListCmd(e *env) *cobra.Command {
	var (
		sf         serverFlags
		format     formatFlag
		serverWide bool
	)
	cmd := &cobra.Command{
		Use:   "list [PROJECT]",
		Short: "List a project's webhooks (or the server-wide ones)",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := format.check(); err != nil {
				return err
			}
			base, err := webhookBase(strings.Join(args, ""), serverWide)
			if err != nil {
				return err
			}
			c, err := sf.client()
			if err != nil {
				return err
			}
			var hs []webhookOut
			if err := c.do(cmd.Context(), http.MethodGet, base, nil, &hs); err != nil {
				return err
			}
			if format.value == "json" {
				return printJSON(e.stdout, hs)
			}
			tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tURL\tEVENTS\tCREATED\tBY")
			for _, h := range hs {
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", h.ID, h.URL, strings.Join(h.Events, ","), fmtTime(&h.CreatedAt), h.CreatedBy)
			}
			return tw.Flush()
		},
	}
	sf.add(cmd)
	format.add(cmd)
	cmd.Flags().BoolVar(&serverWide, "server-wide", false, "list the server-wide webhooks")
	return cmd
}

// webhookIDArgs reads [PROJECT] ID.
func webhookIDArgs(args []string, serverWide bool) (string, int64, error) {
	project, raw := "", args[len(args)-1]
	if len(args) == 2 {
		project = args[0]
	}
	base, err := webhookBase(project, serverWide)
	if err != nil {
		return "", 0, err
	}
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id <= 0 {
		return "", 0, usagef("webhook id %q is not a number (see `seawall webhook list`)", raw)
	}
	return base, id, nil
}

func newWebhookRemoveCmd(e *env) *cobra.Command {
	var (
		sf         serverFlags
		serverWide bool
	)
	cmd := &cobra.Command{
		Use:     "rm [PROJECT] ID",
		Aliases: []string{"remove", "delete"},
		Short:   "Remove a webhook and its queued deliveries",
		Args:    cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			base, id, err := webhookIDArgs(args, serverWide)
			if err != nil {
				return err
			}
			c, err := sf.client()
			if err != nil {
				return err
			}
			if err := c.do(cmd.Context(), http.MethodDelete, fmt.Sprintf("%s/%d", base, id), nil, nil); err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "Removed webhook %d.\n", id)
			return nil
		},
	}
	sf.add(cmd)
	cmd.Flags().BoolVar(&serverWide, "server-wide", false, "a server-wide webhook")
	return cmd
}

func newWebhookDeliveriesCmd(e *env) *cobra.Command {
	var (
		sf         serverFlags
		format     formatFlag
		serverWide bool
		n          int
	)
	cmd := &cobra.Command{
		Use:   "deliveries [PROJECT] ID",
		Short: "Show a webhook's recent deliveries, newest first",
		Args:  cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := format.check(); err != nil {
				return err
			}
			base, id, err := webhookIDArgs(args, serverWide)
			if err != nil {
				return err
			}
			if n < 1 || n > 1000 {
				return usagef("-n %d: use 1 to 1000", n)
			}
			c, err := sf.client()
			if err != nil {
				return err
			}
			var ds []deliveryOut
			if err := c.do(cmd.Context(), http.MethodGet, fmt.Sprintf("%s/%d/deliveries?n=%d", base, id, n), nil, &ds); err != nil {
				return err
			}
			if format.value == "json" {
				return printJSON(e.stdout, ds)
			}
			tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tEVENT\tSTATE\tATTEMPTS\tLAST STATUS\tNEXT ATTEMPT\tLAST ERROR")
			for _, d := range ds {
				status := "-"
				if d.LastStatus != 0 {
					status = strconv.Itoa(d.LastStatus)
				}
				next := "-"
				if d.NextAttempt != nil {
					next = fmtTime(d.NextAttempt)
				}
				fmt.Fprintf(tw, "%d\t%s\t%s\t%d\t%s\t%s\t%s\n", d.ID, d.Event, d.State, d.Attempts, status, next, truncateText(d.LastError, 80))
			}
			return tw.Flush()
		},
	}
	sf.add(cmd)
	format.add(cmd)
	cmd.Flags().BoolVar(&serverWide, "server-wide", false, "a server-wide webhook")
	cmd.Flags().IntVarP(&n, "number", "n", 20, "how many deliveries to show")
	return cmd
}

func truncateText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
