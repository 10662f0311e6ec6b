package cli

import (
	"os"

	"github.com/spf13/cobra"

	"github.com/seawall-dev/seawall/internal/server"
)

func newServeCmd(e *env) *cobra.Command {
	var (
		configFile, addr, data, tlsCert, tlsKey string
	)
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the Seawall server: a private OCI registry with projects, roles and robot accounts",
		Long: `Run the Seawall server: the OCI registry at /v2/, the Docker token service, the
JSON API the other commands use (/api/v1/), /metrics, /healthz and /readyz.

Everything lives under the data directory: SQLite metadata, content-addressed blobs
and the token signing key. On the first start the server creates the user "admin";
its password is SEAWALL_ADMIN_PASSWORD, or a generated one printed once to stderr.

Settings come from the defaults, then --config FILE (YAML), then SEAWALL_*
variables, then these flags. See docs/reference/serve.md for every setting.
SIGTERM or Ctrl-C stops the server after in-flight requests finish.`,
		Example: `  seawall serve
  seawall serve --addr 0.0.0.0:443 --data /var/lib/seawall --tls-cert tls.crt --tls-key tls.key
  SEAWALL_ADMIN_PASSWORD=… seawall serve --config /etc/seawall/seawall.yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := server.LoadConfig(configFile, os.Getenv)
			if err != nil {
				return err
			}
			flags := cmd.Flags()
			if flags.Changed("addr") {
				cfg.Addr = addr
			}
			if flags.Changed("data") {
				cfg.DataDir = data
			}
			if flags.Changed("tls-cert") {
				cfg.TLS.Cert = tlsCert
			}
			if flags.Changed("tls-key") {
				cfg.TLS.Key = tlsKey
			}
			if f := cmd.Flag("log-level"); f != nil && f.Changed {
				cfg.Log.Level = e.logLevel
			}
			if e.quiet {
				cfg.Log.Level = "error"
			}
			if err := cfg.Validate(); err != nil {
				return usagef("%v", err)
			}
			cfg.Console = e.stderr
			log := cfg.NewLogger(e.stderr)
			srv, err := server.New(cmd.Context(), cfg, log)
			if err != nil {
				return err
			}
			defer srv.Close()
			return srv.Run(cmd.Context())
		},
	}
	f := cmd.Flags()
	f.StringVar(&configFile, "config", "", "YAML configuration file")
	f.StringVar(&addr, "addr", "127.0.0.1:5000", "address to listen on")
	f.StringVar(&data, "data", "", "data directory (default $XDG_DATA_HOME/seawall or ~/.local/share/seawall)")
	f.StringVar(&tlsCert, "tls-cert", "", "PEM certificate file: serve HTTPS (with --tls-key)")
	f.StringVar(&tlsKey, "tls-key", "", "PEM private key file for --tls-cert")
	return cmd
}
