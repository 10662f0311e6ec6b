package waf

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Mode says whether the WAF blocks or only logs.
const (
	ModeBlock  = "block"
	ModeDetect = "detect"
)

// FailMode says what happens when the rules fail to load.
const (
	FailClosed = "closed"
	FailOpen   = "open"
)

// Config is the whole WAF configuration: defaults in code (Default), an
// optional YAML file (LoadFile), SEAWALL_WAF_* environment overrides
// (ApplyEnv), then command-line flags.
type Config struct {
	Listen   string `yaml:"listen"`
	Upstream string `yaml:"upstream"`
	// Mode is "block" (the default) or "detect", which logs what it would
	// have blocked and lets everything through.
	Mode     string `yaml:"mode"`
	Paranoia int    `yaml:"paranoia"`
	// AnomalyInbound and AnomalyOutbound are the CRS anomaly score
	// thresholds at which a request or a response is blocked.
	AnomalyInbound  int `yaml:"anomaly_inbound"`
	AnomalyOutbound int `yaml:"anomaly_outbound"`
	// RulesDir holds SecLang *.conf files passed through to the engine.
	// Files whose name contains "after-crs" load after the CRS, the rest
	// before it.
	RulesDir string `yaml:"rules_dir"`
	// ExclusionsFile is a YAML file of exclusions, added to Exclusions.
	ExclusionsFile string      `yaml:"exclusions_file"`
	Exclusions     []Exclusion `yaml:"exclusions"`
	// DisabledRules turns rules off everywhere: CRS IDs, Seawall's
	// built-in IDs, or ranges such as "942100-942199".
	DisabledRules []string `yaml:"disabled_rules"`
	// Log is where events go: a file path, or "-" for standard output.
	Log string `yaml:"log"`
	// Metrics is the listen address of the Prometheus endpoint; empty is off.
	Metrics string `yaml:"metrics"`
	// FailMode is "closed" (the default: refuse to start on broken rules)
	// or "open" (serve without inspection, loudly, until the rules load).
	FailMode string `yaml:"fail_mode"`

	MaxBodyBytes       int64           `yaml:"max_body_bytes"`
	BodyInMemoryBytes  int64           `yaml:"body_in_memory_bytes"`
	ResponseBodyBytes  int64           `yaml:"response_body_bytes"`
	ResponseMIMETypes  []string        `yaml:"response_mime_types"`
	InspectResponses   bool            `yaml:"inspect_responses"`
	AdminPaths         bool            `yaml:"admin_paths"`
	SSRF               SSRFConfig      `yaml:"ssrf"`
	RateLimit          RateLimitConfig `yaml:"rate_limit"`
	TrustedProxies     []string        `yaml:"trusted_proxies"`
	RequestIDHeader    string          `yaml:"request_id_header"`
	PreserveHost       bool            `yaml:"preserve_host"`
	TLSCert            string          `yaml:"tls_cert"`
	TLSKey             string          `yaml:"tls_key"`
	H2C                bool            `yaml:"h2c"`
	Watch              bool            `yaml:"watch"`
	WatchInterval      Duration        `yaml:"watch_interval"`
	ShutdownGrace      Duration        `yaml:"shutdown_grace"`
	ReadHeaderTimeout  Duration        `yaml:"read_header_timeout"`
	IdleTimeout        Duration        `yaml:"idle_timeout"`
	UpstreamTimeout    Duration        `yaml:"upstream_timeout"`
	LogMarkerHeader    string          `yaml:"log_marker_header"`
	MaxIdleConnsUpstrm int             `yaml:"upstream_idle_conns"`
}

// SSRFConfig configures the SSRF guard on request parameters and bodies.
// The guard on the proxy's own upstream connections is not configurable.
type SSRFConfig struct {
	Enabled bool `yaml:"enabled"`
	// ResolveDNS looks up host names found in URLs and refuses those that
	// resolve to a blocked address.
	ResolveDNS bool     `yaml:"resolve_dns"`
	DNSTimeout Duration `yaml:"dns_timeout"`
}

// RateLimitConfig limits requests per client, across all routes and per
// route.
type RateLimitConfig struct {
	Enabled bool `yaml:"enabled"`
	// Rate is the sustained requests per second per client; Burst is how
	// many may arrive at once.
	Rate   float64     `yaml:"rate"`
	Burst  int         `yaml:"burst"`
	Routes []RouteRate `yaml:"routes"`
	// MaxClients bounds the memory the limiter uses.
	MaxClients int `yaml:"max_clients"`
}

// RouteRate is a tighter limit per client on some routes, such as a login.
type RouteRate struct {
	Route `yaml:",inline"`
	Rate  float64 `yaml:"rate"`
	Burst int     `yaml:"burst"`
}

// Duration is a time.Duration written as "30s" in YAML.
type Duration time.Duration

func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %q is not a duration such as 30s or 2m", n.Line, n.Value)
	}
	*d = Duration(v)
	return nil
}

func (d Duration) MarshalYAML() (any, error) { return time.Duration(d).String(), nil }

// Default returns the configuration Seawall uses when nothing is set:
// blocking, paranoia level 1, every built-in protection on.
func Default() Config {
	return Config{
		Listen:             ":8080",
		Mode:               ModeBlock,
		Paranoia:           1,
		AnomalyInbound:     5,
		AnomalyOutbound:    4,
		Log:                "-",
		FailMode:           FailClosed,
		MaxBodyBytes:       10 << 20,
		BodyInMemoryBytes:  128 << 10,
		ResponseBodyBytes:  512 << 10,
		ResponseMIMETypes:  []string{"text/plain", "text/html", "text/xml", "application/json"},
		InspectResponses:   true,
		AdminPaths:         true,
		SSRF:               SSRFConfig{Enabled: true, ResolveDNS: true, DNSTimeout: Duration(250 * time.Millisecond)},
		RateLimit:          RateLimitConfig{Enabled: true, Rate: 100, Burst: 200, MaxClients: 100000},
		RequestIDHeader:    "X-Request-ID",
		PreserveHost:       true,
		Watch:              true,
		WatchInterval:      Duration(2 * time.Second),
		ShutdownGrace:      Duration(30 * time.Second),
		ReadHeaderTimeout:  Duration(10 * time.Second),
		IdleTimeout:        Duration(120 * time.Second),
		UpstreamTimeout:    Duration(60 * time.Second),
		MaxIdleConnsUpstrm: 1024,
	}
}

// LoadFile reads a YAML configuration over cfg. Keys the file does not
// name keep their value; unknown keys are an error, so typos show.
func LoadFile(path string, cfg *Config) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("waf config: %w", err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(cfg); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("waf config %s: %w", path, err)
	}
	return nil
}

// ApplyEnv applies the SEAWALL_WAF_* environment overrides.
func ApplyEnv(cfg *Config, getenv func(string) string) error {
	str := map[string]*string{
		"SEAWALL_WAF_LISTEN":     &cfg.Listen,
		"SEAWALL_WAF_UPSTREAM":   &cfg.Upstream,
		"SEAWALL_WAF_MODE":       &cfg.Mode,
		"SEAWALL_WAF_RULES":      &cfg.RulesDir,
		"SEAWALL_WAF_EXCLUSIONS": &cfg.ExclusionsFile,
		"SEAWALL_WAF_LOG":        &cfg.Log,
		"SEAWALL_WAF_METRICS":    &cfg.Metrics,
		"SEAWALL_WAF_FAIL_MODE":  &cfg.FailMode,
	}
	for k, p := range str {
		if v := getenv(k); v != "" {
			*p = v
		}
	}
	ints := map[string]*int{
		"SEAWALL_WAF_PARANOIA":         &cfg.Paranoia,
		"SEAWALL_WAF_ANOMALY_INBOUND":  &cfg.AnomalyInbound,
		"SEAWALL_WAF_ANOMALY_OUTBOUND": &cfg.AnomalyOutbound,
	}
	for k, p := range ints {
		if v := getenv(k); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil {
				return fmt.Errorf("%s=%q: not a whole number", k, v)
			}
			*p = n
		}
	}
	if v := getenv("SEAWALL_WAF_MAX_BODY_BYTES"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return fmt.Errorf("SEAWALL_WAF_MAX_BODY_BYTES=%q: not a whole number", v)
		}
		cfg.MaxBodyBytes = n
	}
	return nil
}

// Validate checks the configuration and says how to fix what is wrong.
func (c *Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	switch c.Mode {
	case ModeBlock, ModeDetect:
	default:
		bad("mode %q: use block or detect", c.Mode)
	}
	switch c.FailMode {
	case FailClosed, FailOpen:
	default:
		bad("fail_mode %q: use closed or open", c.FailMode)
	}
	if c.Paranoia < 1 || c.Paranoia > 4 {
		bad("paranoia %d: use 1, 2, 3 or 4", c.Paranoia)
	}
	if c.AnomalyInbound < 1 {
		bad("anomaly_inbound %d: use a threshold of 1 or more (CRS default 5)", c.AnomalyInbound)
	}
	if c.AnomalyOutbound < 1 {
		bad("anomaly_outbound %d: use a threshold of 1 or more (CRS default 4)", c.AnomalyOutbound)
	}
	if c.MaxBodyBytes < 1 {
		bad("max_body_bytes %d: must be positive", c.MaxBodyBytes)
	}
	if c.BodyInMemoryBytes < 1 || c.BodyInMemoryBytes > c.MaxBodyBytes {
		bad("body_in_memory_bytes %d: must be between 1 and max_body_bytes", c.BodyInMemoryBytes)
	}
	if c.ResponseBodyBytes < 1 {
		bad("response_body_bytes %d: must be positive", c.ResponseBodyBytes)
	}
	if c.RateLimit.Enabled {
		if c.RateLimit.Rate <= 0 || c.RateLimit.Burst < 1 {
			bad("rate_limit: rate must be positive and burst at least 1 (or set enabled: false)")
		}
		for i, r := range c.RateLimit.Routes {
			if r.Rate <= 0 || r.Burst < 1 {
				bad("rate_limit.routes[%d]: rate must be positive and burst at least 1", i)
			}
			if err := r.Route.validate(); err != nil {
				bad("rate_limit.routes[%d]: %v", i, err)
			}
		}
	}
	if c.Upstream == "" {
		bad("upstream is not set: give --upstream http://HOST:PORT")
	} else if u, err := url.Parse(c.Upstream); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		bad("upstream %q: use an http:// or https:// URL such as http://127.0.0.1:9000", c.Upstream)
	}
	for _, p := range c.TrustedProxies {
		if _, err := parsePrefix(p); err != nil {
			bad("trusted_proxies: %q is not an IP address or CIDR", p)
		}
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		bad("tls_cert and tls_key must be given together")
	}
	if c.RequestIDHeader == "" {
		bad("request_id_header must not be empty")
	}
	for _, id := range c.DisabledRules {
		if _, _, err := parseIDRange(id); err != nil {
			bad("disabled_rules: %v", err)
		}
	}
	for i := range c.Exclusions {
		if err := c.Exclusions[i].validate(); err != nil {
			bad("exclusions[%d] %s: %v", i, c.Exclusions[i].Name, err)
		}
	}
	return errors.Join(errs...)
}

func parsePrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		return p.Masked(), err
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}
