package cli

import (
	"fmt"
	"net/http"
	"net/url"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/seawall-dev/seawall/internal/store"
)

func newMemberCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "member",
		Short: "Manage who may do what in a project",
		Long: `Roles, with Harbor's meanings (docs/reference/access.md has the full table):
  admin          everything in the project, including members and settings
  maintainer     pull, push, delete, and manage robot accounts
  developer      pull and push
  guest          pull, and see the project's repositories and members
  limited-guest  pull only`,
	}
	cmd.AddCommand(newMemberAddCmd(e), newMemberRemoveCmd(e), newMemberListCmd(e))
	return cmd
}

func projectPath(project string, rest ...string) string {
	p := "/api/v1/projects/" + url.PathEscape(project)
	for _, r := range rest {
		p += "/" + url.PathEscape(r)
	}
	return p
}

func newMemberAddCmd(e *env) *cobra.Command {
	var (
		sf   serverFlags
		role string
	)
	cmd := &cobra.Command{
		Use:     "add PROJECT USER --role admin|maintainer|developer|guest|limited-guest",
		Short:   "Add a user to a project, or change their role (project admins)",
		Example: "  seawall member add team alice --role developer",
		Args:    cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if role == "" {
				return usagef("--role is required: admin, maintainer, developer, guest or limited-guest")
			}
			if _, err := store.ParseRole(role); err != nil {
				return usagef("--role: %v", err)
			}
			c, err := sf.client()
			if err != nil {
				return err
			}
			if err := c.do(cmd.Context(), http.MethodPut, projectPath(args[0], "members", args[1]), map[string]string{"role": role}, nil); err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "%s is now %s in project %s.\n", args[1], role, args[0])
			return nil
		},
	}
	sf.add(cmd)
	cmd.Flags().StringVar(&role, "role", "", "admin, maintainer, developer, guest or limited-guest")
	return cmd
}

func newMemberRemoveCmd(e *env) *cobra.Command {
	var sf serverFlags
	cmd := &cobra.Command{
		Use:   "remove PROJECT USER",
		Short: "Remove a user from a project (project admins)",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := sf.client()
			if err != nil {
				return err
			}
			if err := c.do(cmd.Context(), http.MethodDelete, projectPath(args[0], "members", args[1]), nil, nil); err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "Removed %s from project %s.\n", args[1], args[0])
			return nil
		},
	}
	sf.add(cmd)
	return cmd
}

func newMemberListCmd(e *env) *cobra.Command {
	var (
		sf     serverFlags
		format formatFlag
	)
	cmd := &cobra.Command{
		Use:   "list PROJECT",
		Short: "List a project's members and their roles",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := format.check(); err != nil {
				return err
			}
			c, err := sf.client()
			if err != nil {
				return err
			}
			var ms []struct {
				Username string `json:"username"`
				Role     string `json:"role"`
			}
			if err := c.do(cmd.Context(), http.MethodGet, projectPath(args[0], "members"), nil, &ms); err != nil {
				return err
			}
			if format.value == "json" {
				return printJSON(e.stdout, ms)
			}
			tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "USER\tROLE")
			for _, m := range ms {
				fmt.Fprintf(tw, "%s\t%s\n", m.Username, m.Role)
			}
			return tw.Flush()
		},
	}
	sf.add(cmd)
	format.add(cmd)
	return cmd
}
