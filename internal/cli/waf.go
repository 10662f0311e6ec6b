package cli

import (
	"fmt"
	"net"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/seawall-dev/seawall/internal/waf"
)

// wafFlags are the command-line settings of seawall waf. Each one, when
// given, overrides the configuration file and the environment.
type wafFlags struct {
	config                      string
	listen, upstream, mode      string
	paranoia, inbound, outbound int
	rules, exclusions, log      string
	metrics, failMode           string
	maxBody                     int64
	rate                        float64
	burst                       int
	trusted                     []string
	tlsCert, tlsKey             string
	h2c                         bool
}

func (f *wafFlags) add(fs *pflag.FlagSet) {
	d := waf.Default()
	fs.StringVar(&f.config, "config", os.Getenv("SEAWALL_WAF_CONFIG"), "YAML configuration file (or SEAWALL_WAF_CONFIG)")
	fs.StringVar(&f.listen, "listen", d.Listen, "address to listen on")
	fs.StringVar(&f.upstream, "upstream", "", "URL of the application to protect, such as http://127.0.0.1:9000")
	fs.StringVar(&f.mode, "mode", d.Mode, "block, or detect to log without blocking")
	fs.IntVar(&f.paranoia, "paranoia", d.Paranoia, "CRS paranoia level, 1 to 4")
	fs.IntVar(&f.inbound, "anomaly-inbound", d.AnomalyInbound, "inbound anomaly score that blocks a request")
	fs.IntVar(&f.outbound, "anomaly-outbound", d.AnomalyOutbound, "outbound anomaly score that blocks a response")
	fs.StringVar(&f.rules, "rules", "", "directory of SecLang *.conf files to load as well (names containing after-crs load after the CRS)")
	fs.StringVar(&f.exclusions, "exclusions", "", "YAML file of rule exclusions per route and parameter")
	fs.StringVar(&f.log, "log", d.Log, "event log: a file, or - for standard output")
	fs.StringVar(&f.metrics, "metrics", "", "address of the Prometheus /metrics endpoint, such as :9090 (default: off)")
	fs.StringVar(&f.failMode, "fail-mode", d.FailMode, "when rules fail to load: closed (refuse to start) or open (serve without inspection)")
	fs.Int64Var(&f.maxBody, "max-body", d.MaxBodyBytes, "largest request body in bytes")
	fs.Float64Var(&f.rate, "rate-limit", d.RateLimit.Rate, "requests per second per client; 0 turns rate limiting off")
	fs.IntVar(&f.burst, "rate-burst", d.RateLimit.Burst, "requests a client may send at once")
	fs.StringSliceVar(&f.trusted, "trusted-proxies", nil, "addresses or CIDRs of proxies whose X-Forwarded-* headers are believed")
	fs.StringVar(&f.tlsCert, "tls-cert", "", "certificate file: serve HTTPS and HTTP/2")
	fs.StringVar(&f.tlsKey, "tls-key", "", "private key file for --tls-cert")
	fs.BoolVar(&f.h2c, "h2c", false, "also accept HTTP/2 without TLS (h2c)")
}

// load builds the configuration: defaults, file, environment, then the
// flags that were given.
func (f *wafFlags) load(fs *pflag.FlagSet) (waf.Config, error) {
	cfg := waf.Default()
	if f.config != "" {
		if err := waf.LoadFile(f.config, &cfg); err != nil {
			return cfg, err
		}
	}
	if err := waf.ApplyEnv(&cfg, os.Getenv); err != nil {
		return cfg, err
	}
	set := func(name string, apply func()) {
		if fs.Changed(name) {
			apply()
		}
	}
	set("listen", func() { cfg.Listen = f.listen })
	set("upstream", func() { cfg.Upstream = f.upstream })
	set("mode", func() { cfg.Mode = f.mode })
	set("paranoia", func() { cfg.Paranoia = f.paranoia })
	set("anomaly-inbound", func() { cfg.AnomalyInbound = f.inbound })
	set("anomaly-outbound", func() { cfg.AnomalyOutbound = f.outbound })
	set("rules", func() { cfg.RulesDir = f.rules })
	set("exclusions", func() { cfg.ExclusionsFile = f.exclusions })
	set("log", func() { cfg.Log = f.log })
	set("metrics", func() { cfg.Metrics = f.metrics })
	set("fail-mode", func() { cfg.FailMode = f.failMode })
	set("max-body", func() { cfg.MaxBodyBytes = f.maxBody })
	set("rate-limit", func() {
		cfg.RateLimit.Rate = f.rate
		cfg.RateLimit.Enabled = f.rate > 0
	})
	set("rate-burst", func() { cfg.RateLimit.Burst = f.burst })
	set("trusted-proxies", func() { cfg.TrustedProxies = f.trusted })
	set("tls-cert", func() { cfg.TLSCert = f.tlsCert })
	set("tls-key", func() { cfg.TLSKey = f.tlsKey })
	set("h2c", func() { cfg.H2C = f.h2c })
	if err := cfg.Validate(); err != nil {
		return cfg, &usageError{err.Error()}
	}
	return cfg, nil
}

func newWAFCmd(e *env) *cobra.Command {
	var f wafFlags
	cmd := &cobra.Command{
		Use:   "waf --upstream URL",
		Short: "Run the web application firewall as a reverse proxy",
		Long: `Run Seawall's web application firewall in front of an application.

It inspects every request with the OWASP Core Rule Set v4 (embedded; nothing
is downloaded) and Seawall's own guards: admin and infrastructure paths,
SSRF targets in parameters and bodies, body size and rate limits. Blocks and
detections are written as JSON lines to --log.

Send SIGHUP, or change a watched file, to reload the rules without dropping
connections. See docs/reference/waf.md.`,
		Example: `  seawall waf --listen :8080 --upstream http://127.0.0.1:9000
  seawall waf --upstream http://app:9000 --mode detect --paranoia 2 --log /var/log/seawall-waf.json
  seawall waf --config waf.yaml --exclusions exclusions.yaml --metrics :9090`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := f.load(cmd.Flags())
			if err != nil {
				return err
			}
			w, err := waf.New(cfg, e.log, waf.WithStdout(e.stdout))
			if err != nil {
				return err
			}
			hup := make(chan os.Signal, 1)
			signal.Notify(hup, syscall.SIGHUP)
			defer signal.Stop(hup)
			srv := &waf.Server{
				WAF:        w,
				Load:       func() (waf.Config, error) { return f.load(cmd.Flags()) },
				ConfigFile: f.config,
				Log:        e.log.With("component", "waf"),
				Ready: func(addr, maddr net.Addr) {
					if e.quiet {
						return
					}
					fmt.Fprintf(e.stderr, "seawall waf: listening on %s, upstream %s, mode %s, paranoia %d\n", addr, cfg.Upstream, cfg.Mode, cfg.Paranoia)
					if maddr != nil {
						fmt.Fprintf(e.stderr, "seawall waf: metrics on http://%s/metrics\n", maddr)
					}
				},
			}
			return srv.Run(cmd.Context(), hup)
		},
	}
	f.add(cmd.Flags())
	return cmd
}
