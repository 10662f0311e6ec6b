package cli

import (
	"fmt"
	"net/http"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
)

func newUserCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "user",
		Short: "Create and list users (system admins)",
	}
	cmd.AddCommand(newUserCreateCmd(e), newUserListCmd(e))
	return cmd
}

func newUserCreateCmd(e *env) *cobra.Command {
	var (
		sf            serverFlags
		admin         bool
		passwordStdin bool
	)
	cmd := &cobra.Command{
		Use:   "create NAME",
		Short: "Create a user (system admins only)",
		Long: `Create a user who logs in with a password. On a terminal it asks for the
password twice; scripts pipe it with --password-stdin. --admin makes the user a
system admin, who may do everything on the server.`,
		Example: "  seawall user create alice\n  echo \"$PW\" | seawall user create ci-admin --admin --password-stdin",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := sf.client()
			if err != nil {
				return err
			}
			pw, err := readSecret(e, "Password for "+args[0]+": ", passwordStdin)
			if err != nil {
				return err
			}
			if !passwordStdin {
				again, err := readSecret(e, "Repeat it: ", false)
				if err != nil {
					return err
				}
				if again != pw {
					return fmt.Errorf("the two passwords differ: nothing was created")
				}
			}
			var u struct {
				Username string `json:"username"`
				Admin    bool   `json:"admin"`
			}
			if err := c.do(cmd.Context(), http.MethodPost, "/api/v1/users", map[string]any{"username": args[0], "password": pw, "admin": admin}, &u); err != nil {
				return err
			}
			kind := "user"
			if u.Admin {
				kind = "system admin"
			}
			fmt.Fprintf(e.stdout, "Created %s %s. Add them to a project with `seawall member add PROJECT %s --role developer`.\n", kind, u.Username, u.Username)
			return nil
		},
	}
	sf.add(cmd)
	cmd.Flags().BoolVar(&admin, "admin", false, "make the user a system admin")
	cmd.Flags().BoolVar(&passwordStdin, "password-stdin", false, "read the password from stdin")
	return cmd
}

func newUserListCmd(e *env) *cobra.Command {
	var (
		sf     serverFlags
		format formatFlag
	)
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List users (system admins only)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := format.check(); err != nil {
				return err
			}
			c, err := sf.client()
			if err != nil {
				return err
			}
			var us []struct {
				Username  string    `json:"username"`
				Admin     bool      `json:"admin"`
				Disabled  bool      `json:"disabled"`
				CreatedAt time.Time `json:"createdAt"`
			}
			if err := c.do(cmd.Context(), http.MethodGet, "/api/v1/users", nil, &us); err != nil {
				return err
			}
			if format.value == "json" {
				return printJSON(e.stdout, us)
			}
			tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "USER\tSYSTEM ADMIN\tDISABLED\tCREATED")
			for _, u := range us {
				fmt.Fprintf(tw, "%s\t%v\t%v\t%s\n", u.Username, u.Admin, u.Disabled, u.CreatedAt.UTC().Format(time.DateOnly))
			}
			return tw.Flush()
		},
	}
	sf.add(cmd)
	format.add(cmd)
	return cmd
}
