package cli

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

func newLoginCmd(e *env) *cobra.Command {
	var (
		username      string
		passwordStdin bool
		insecure      bool
	)
	cmd := &cobra.Command{
		Use:   "login SERVER",
		Short: "Log in to a Seawall server and store an API token for the other commands",
		Long: `Log in to a Seawall server with a user name and password, and store the API token
it returns in $XDG_CONFIG_HOME/seawall/credentials.json (mode 0600). The password
itself is never stored. Later commands use this server unless given --server.

On a terminal it asks for the user name and password; scripts pass --username and
pipe the password with --password-stdin.`,
		Example: `  seawall login https://registry.example.com
  echo "$PASSWORD" | seawall login 127.0.0.1:5000 --username admin --password-stdin`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			server, err := normalizeServer(args[0])
			if err != nil {
				return err
			}
			if username == "" {
				if username, err = readLine(e, "Username: "); err != nil {
					return err
				}
			}
			password, err := readSecret(e, "Password: ", passwordStdin)
			if err != nil {
				return err
			}
			c := newAPIClient(server, "", insecure)
			var resp struct {
				Token     string    `json:"token"`
				Username  string    `json:"username"`
				Admin     bool      `json:"admin"`
				ExpiresAt time.Time `json:"expiresAt"`
			}
			err = c.do(cmd.Context(), http.MethodPost, "/api/v1/login", map[string]string{"username": username, "password": password}, &resp)
			var ae *apiError
			if errors.As(err, &ae) && ae.Status == http.StatusUnauthorized {
				return fmt.Errorf("login to %s failed: wrong user name or password, or the account is disabled", server)
			}
			if err != nil {
				return fmt.Errorf("login to %s: %w", server, err)
			}
			creds, path, err := loadCredentials()
			if err != nil {
				return err
			}
			creds.Servers[server] = serverCreds{Username: resp.Username, Token: resp.Token, ExpiresAt: resp.ExpiresAt, Insecure: insecure}
			creds.Current = server
			if err := creds.save(path); err != nil {
				return err
			}
			role := ""
			if resp.Admin {
				role = " (system admin)"
			}
			fmt.Fprintf(e.stdout, "Logged in to %s as %s%s; the token expires %s.\n", server, resp.Username, role, fmtTime(&resp.ExpiresAt))
			return nil
		},
	}
	cmd.Flags().StringVarP(&username, "username", "u", "", "user name (asked on a terminal when not given)")
	cmd.Flags().BoolVar(&passwordStdin, "password-stdin", false, "read the password from stdin")
	cmd.Flags().BoolVar(&insecure, "insecure", false, "skip TLS certificate verification (remembered for this server)")
	return cmd
}

func newLogoutCmd(e *env) *cobra.Command {
	var sf serverFlags
	cmd := &cobra.Command{
		Use:   "logout",
		Short: "Revoke the stored API token and forget it",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := sf.client()
			if err != nil {
				return err
			}
			err = c.do(cmd.Context(), http.MethodPost, "/api/v1/logout", nil, nil)
			var ae *apiError
			if err != nil && !(errors.As(err, &ae) && ae.Status == http.StatusUnauthorized) {
				return err // a token the server no longer knows is forgotten all the same
			}
			creds, path, err := loadCredentials()
			if err != nil {
				return err
			}
			delete(creds.Servers, c.base)
			if creds.Current == c.base {
				creds.Current = ""
			}
			if err := creds.save(path); err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "Logged out of %s.\n", c.base)
			return nil
		},
	}
	sf.add(cmd)
	return cmd
}

func newWhoamiCmd(e *env) *cobra.Command {
	var (
		sf     serverFlags
		format formatFlag
	)
	cmd := &cobra.Command{
		Use:   "whoami",
		Short: "Show who you are logged in as, and your projects",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := format.check(); err != nil {
				return err
			}
			c, err := sf.client()
			if err != nil {
				return err
			}
			var me struct {
				Username    string                           `json:"username"`
				Kind        string                           `json:"kind"`
				Admin       bool                             `json:"admin"`
				Via         string                           `json:"via"`
				Projects    []struct{ Project, Role string } `json:"projects"`
				Permissions []string                         `json:"permissions"`
				ExpiresAt   *time.Time                       `json:"expiresAt"`
			}
			if err := c.do(cmd.Context(), http.MethodGet, "/api/v1/whoami", nil, &me); err != nil {
				return err
			}
			if format.value == "json" {
				return printJSON(e.stdout, me)
			}
			admin := ""
			if me.Admin {
				admin = " (system admin)"
			}
			fmt.Fprintf(e.stdout, "%s%s on %s\n", me.Username, admin, c.base)
			for _, p := range me.Projects {
				fmt.Fprintf(e.stdout, "  %-30s %s\n", p.Project, p.Role)
			}
			if len(me.Permissions) > 0 {
				fmt.Fprintf(e.stdout, "permissions: %s\n", strings.Join(me.Permissions, ","))
			}
			return nil
		},
	}
	sf.add(cmd)
	format.add(cmd)
	return cmd
}
