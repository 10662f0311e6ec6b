package cli

import (
	"fmt"
	"net/http"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
)

type robotOut struct {
	Name        string     `json:"name"`
	Project     string     `json:"project"`
	Permissions []string   `json:"permissions"`
	ExpiresAt   *time.Time `json:"expiresAt,omitempty"`
	Expired     bool       `json:"expired"`
	Revoked     bool       `json:"revoked"`
	CreatedAt   time.Time  `json:"createdAt"`
	CreatedBy   string     `json:"createdBy"`
	Secret      string     `json:"secret,omitempty"`
}

func newRobotCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "robot",
		Short: "Manage a project's robot accounts (machine identities for CI and deployments)",
		Long: `A robot account belongs to one project and holds exactly the permissions it is
given (pull, push, delete). Its secret is shown once, at creation. It can expire and
be revoked. Its full name, robot$<project>+<name>, is the user name for docker,
podman or skopeo login.`,
	}
	cmd.AddCommand(newRobotCreateCmd(e), newRobotListCmd(e), newRobotRevokeCmd(e))
	return cmd
}

func newRobotCreateCmd(e *env) *cobra.Command {
	var (
		sf          serverFlags
		permissions string
		expires     string
		format      formatFlag
	)
	cmd := &cobra.Command{
		Use:   "create PROJECT NAME --permissions pull[,push][,delete]",
		Short: "Create a robot account and print its secret, once (maintainers and admins)",
		Example: `  seawall robot create team ci --permissions pull,push
  seawall robot create team deploy --permissions pull --expires 90d
  seawall robot create team janitor --permissions pull,delete --expires never`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := format.check(); err != nil {
				return err
			}
			if permissions == "" {
				return usagef("--permissions is required: pull, push and delete, comma-separated")
			}
			var perms []string
			for _, p := range strings.Split(permissions, ",") {
				p = strings.TrimSpace(p)
				switch p {
				case "pull", "push", "delete":
					perms = append(perms, p)
				case "":
				default:
					return usagef("--permissions: unknown permission %q: use pull, push and delete, comma-separated", p)
				}
			}
			ttl, err := parseExpiry(expires)
			if err != nil {
				return err
			}
			c, err := sf.client()
			if err != nil {
				return err
			}
			var rb robotOut
			req := map[string]any{"name": args[1], "permissions": perms, "expiresIn": int64(ttl.Seconds())}
			if err := c.do(cmd.Context(), http.MethodPost, projectPath(args[0], "robots"), req, &rb); err != nil {
				return err
			}
			if format.value == "json" {
				return printJSON(e.stdout, rb)
			}
			fmt.Fprintf(e.stdout, "robot        %s\nsecret       %s\npermissions  %s\nexpires      %s\n",
				rb.Name, rb.Secret, strings.Join(rb.Permissions, ","), fmtTime(rb.ExpiresAt))
			fmt.Fprintln(e.stderr, "The secret is shown only now: store it in your CI's secret store.")
			return nil
		},
	}
	sf.add(cmd)
	format.add(cmd)
	cmd.Flags().StringVar(&permissions, "permissions", "", "comma-separated: pull, push, delete")
	cmd.Flags().StringVar(&expires, "expires", "30d", "lifetime: days (30d), a duration (12h) or never")
	return cmd
}

func newRobotListCmd(e *env) *cobra.Command {
	var (
		sf     serverFlags
		format formatFlag
	)
	cmd := &cobra.Command{
		Use:   "list PROJECT",
		Short: "List a project's robot accounts (maintainers and admins)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := format.check(); err != nil {
				return err
			}
			c, err := sf.client()
			if err != nil {
				return err
			}
			var rbs []robotOut
			if err := c.do(cmd.Context(), http.MethodGet, projectPath(args[0], "robots"), nil, &rbs); err != nil {
				return err
			}
			if format.value == "json" {
				return printJSON(e.stdout, rbs)
			}
			tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "ROBOT\tPERMISSIONS\tEXPIRES\tSTATUS\tCREATED BY")
			for _, rb := range rbs {
				status := "active"
				switch {
				case rb.Revoked:
					status = "revoked"
				case rb.Expired:
					status = "expired"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", rb.Name, strings.Join(rb.Permissions, ","), fmtTime(rb.ExpiresAt), status, rb.CreatedBy)
			}
			return tw.Flush()
		},
	}
	sf.add(cmd)
	format.add(cmd)
	return cmd
}

func newRobotRevokeCmd(e *env) *cobra.Command {
	var sf serverFlags
	cmd := &cobra.Command{
		Use:   "revoke PROJECT NAME",
		Short: "Revoke a robot account: it is refused from now on (maintainers and admins)",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := sf.client()
			if err != nil {
				return err
			}
			if err := c.do(cmd.Context(), http.MethodDelete, projectPath(args[0], "robots", args[1]), nil, nil); err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "Revoked robot %s in project %s.\n", args[1], args[0])
			return nil
		},
	}
	sf.add(cmd)
	return cmd
}
