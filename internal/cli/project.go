package cli

import (
	"fmt"
	"net/http"
	"net/url"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
)

type projectOut struct {
	Name      string    `json:"name"`
	Public    bool      `json:"public"`
	CreatedAt time.Time `json:"createdAt"`
	Role      string    `json:"role,omitempty"`
}

func visibility(public bool) string {
	if public {
		return "public"
	}
	return "private"
}

func newProjectCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "project",
		Short: "Create, list and change registry projects",
		Long: `A project is the first path segment of every repository (registry.example.com/PROJECT/app).
Members, roles and robot accounts belong to a project; a public project lets anyone pull.`,
	}
	cmd.AddCommand(newProjectCreateCmd(e), newProjectListCmd(e), newProjectSetCmd(e), newProjectDeleteCmd(e))
	return cmd
}

func newProjectCreateCmd(e *env) *cobra.Command {
	var (
		sf     serverFlags
		public bool
	)
	cmd := &cobra.Command{
		Use:     "create NAME",
		Short:   "Create a project; you become its admin",
		Example: "  seawall project create team\n  seawall project create library --public",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := sf.client()
			if err != nil {
				return err
			}
			var p projectOut
			if err := c.do(cmd.Context(), http.MethodPost, "/api/v1/projects", map[string]any{"name": args[0], "public": public}, &p); err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "Created %s project %s; you are its admin.\n", visibility(p.Public), p.Name)
			return nil
		},
	}
	sf.add(cmd)
	cmd.Flags().BoolVar(&public, "public", false, "let anyone pull, even without logging in")
	return cmd
}

func newProjectListCmd(e *env) *cobra.Command {
	var (
		sf     serverFlags
		format formatFlag
	)
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the projects you can see",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := format.check(); err != nil {
				return err
			}
			c, err := sf.client()
			if err != nil {
				return err
			}
			var ps []projectOut
			if err := c.do(cmd.Context(), http.MethodGet, "/api/v1/projects", nil, &ps); err != nil {
				return err
			}
			if format.value == "json" {
				return printJSON(e.stdout, ps)
			}
			tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "PROJECT\tVISIBILITY\tYOUR ROLE\tCREATED")
			for _, p := range ps {
				role := p.Role
				if role == "" {
					role = "-"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", p.Name, visibility(p.Public), role, p.CreatedAt.UTC().Format(time.DateOnly))
			}
			return tw.Flush()
		},
	}
	sf.add(cmd)
	format.add(cmd)
	return cmd
}

func newProjectSetCmd(e *env) *cobra.Command {
	var (
		sf     serverFlags
		public bool
		pf     policyFlags
		format formatFlag
	)
	cmd := &cobra.Command{
		Use:   "set NAME [--public=true|false] [registry policy flags]",
		Short: "Change a project's settings and registry policy (project admins)",
		Long: `Changes a project's visibility and its registry policy: scanning on push, refusing pulls (412) of
images with vulnerabilities at or above a severity, of unscanned images or of images without a
trusted cosign signature, immutable tags, and a CVE allowlist with expiry dates and reasons in the
.seawallignore format. Flags not given stay as they are. With no flag, shows the policy.
See docs/reference/registry-policy.md.`,
		Example: `  seawall project set team --public=false
  seawall project set team --scan-on-push --prevent-severity HIGH --prevent-unscanned \
      --require-signature cosign.pub --immutable-tags 'v*' \
      --cve-allow CVE-2024-2961:expires=2027-01-31:reason='iconv ISO-2022-CN-EXT not used'
  seawall project set team --prevent-severity NONE --require-signature ''`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := format.check(); err != nil {
				return err
			}
			patch, err := pf.patch(cmd)
			if err != nil {
				return err
			}
			c, err := sf.client()
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			base := "/api/v1/projects/" + url.PathEscape(args[0])
			if cmd.Flags().Changed("public") {
				var p projectOut
				if err := c.do(ctx, http.MethodPatch, base, map[string]any{"public": public}, &p); err != nil {
					return err
				}
				fmt.Fprintf(e.stdout, "Project %s is %s.\n", p.Name, visibility(p.Public))
			}
			var pol policyOut
			switch {
			case patch != nil:
				if err := c.do(ctx, http.MethodPatch, base+"/policy", patch, &pol); err != nil {
					return err
				}
			case !cmd.Flags().Changed("public"):
				if err := c.do(ctx, http.MethodGet, base+"/policy", nil, &pol); err != nil {
					return err
				}
			default:
				return nil
			}
			if format.value == "json" {
				return printJSON(e.stdout, pol)
			}
			printPolicy(e.stdout, &pol)
			return nil
		},
	}
	sf.add(cmd)
	format.add(cmd)
	cmd.Flags().BoolVar(&public, "public", false, "let anyone pull")
	pf.add(cmd)
	return cmd
}

func newProjectDeleteCmd(e *env) *cobra.Command {
	var sf serverFlags
	cmd := &cobra.Command{
		Use:   "delete NAME",
		Short: "Delete an empty project (project admins)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := sf.client()
			if err != nil {
				return err
			}
			if err := c.do(cmd.Context(), http.MethodDelete, "/api/v1/projects/"+url.PathEscape(args[0]), nil, nil); err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "Deleted project %s.\n", args[0])
			return nil
		},
	}
	sf.add(cmd)
	return cmd
}
