package server

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Config is everything `seawall serve` can be told. Defaults come from
// Default; a YAML file (--config), then SEAWALL_* environment variables,
// then command-line flags override them, in that order. Each leaf's yaml
// key and env variable are listed in docs/reference/serve.md (a test
// checks that).
type Config struct {
	// Addr is the address to listen on.
	Addr string `yaml:"addr" env:"SEAWALL_ADDR"`
	// DataDir holds everything: seawall.db, blobs/, uploads/, keys/.
	DataDir string `yaml:"data" env:"SEAWALL_DATA"`
	// ExternalURL is how clients reach the server (scheme, host, port),
	// used in token challenges. Empty: taken from each request.
	ExternalURL string `yaml:"external_url" env:"SEAWALL_EXTERNAL_URL"`

	TLS      TLSConfig      `yaml:"tls"`
	Database DatabaseConfig `yaml:"database"`
	Auth     AuthConfig     `yaml:"auth"`
	Registry RegistryConfig `yaml:"registry"`
	Scan     ScanConfig     `yaml:"scan"`
	Webhooks WebhooksConfig `yaml:"webhooks"`
	HTTP     HTTPConfig     `yaml:"http"`
	Metrics  MetricsConfig  `yaml:"metrics"`
	Log      LogConfig      `yaml:"log"`

	// AdminPassword is the first admin's password, used only when the
	// store has no users yet. It comes from SEAWALL_ADMIN_PASSWORD and
	// never from the file.
	AdminPassword string `yaml:"-" env:"SEAWALL_ADMIN_PASSWORD"`
	// Console receives the generated first admin password (os.Stderr when nil).
	Console io.Writer `yaml:"-"`
	// Now is the clock (time.Now when nil); for tests.
	Now func() time.Time `yaml:"-"`
}

// TLSConfig turns on HTTPS when both files are given.
type TLSConfig struct {
	Cert string `yaml:"cert" env:"SEAWALL_TLS_CERT"`
	Key  string `yaml:"key" env:"SEAWALL_TLS_KEY"`
}

// DatabaseConfig picks the metadata store.
type DatabaseConfig struct {
	// Driver is "sqlite" (embedded, the default) or "postgres".
	Driver string `yaml:"driver" env:"SEAWALL_DATABASE_DRIVER"`
	// DSN is the PostgreSQL connection string, or for SQLite the database
	// file (default DATA/seawall.db).
	DSN string `yaml:"dsn" env:"SEAWALL_DATABASE_DSN"`
}

// AuthConfig tunes authentication.
type AuthConfig struct {
	// Service is the token service name (JWT audience). Empty: the host of
	// the external URL (or of each request).
	Service string `yaml:"service" env:"SEAWALL_AUTH_SERVICE"`
	// Issuer is the JWT issuer.
	Issuer string `yaml:"issuer" env:"SEAWALL_AUTH_ISSUER"`
	// TokenTTL is how long a registry token (JWT) is valid.
	TokenTTL time.Duration `yaml:"token_ttl" env:"SEAWALL_AUTH_TOKEN_TTL"`
	// APITokenTTL is how long a `seawall login` token is valid.
	APITokenTTL time.Duration `yaml:"api_token_ttl" env:"SEAWALL_AUTH_API_TOKEN_TTL"`
	// LoginFailuresPerMinute and LoginFailureBurst bound failed logins per
	// user name; a client address gets three times as many.
	LoginFailuresPerMinute float64 `yaml:"login_failures_per_minute" env:"SEAWALL_AUTH_LOGIN_FAILURES_PER_MINUTE"`
	LoginFailureBurst      int     `yaml:"login_failure_burst" env:"SEAWALL_AUTH_LOGIN_FAILURE_BURST"`
	// ProjectCreation says who may create projects: "everyone" (any
	// logged-in user, who becomes its admin) or "admin" (system admins).
	ProjectCreation string `yaml:"project_creation" env:"SEAWALL_AUTH_PROJECT_CREATION"`
}

// RegistryConfig holds the registry's limits.
type RegistryConfig struct {
	MaxManifestSize int64         `yaml:"max_manifest_size" env:"SEAWALL_REGISTRY_MAX_MANIFEST_SIZE"`
	UploadTTL       time.Duration `yaml:"upload_ttl" env:"SEAWALL_REGISTRY_UPLOAD_TTL"`
	// GCGrace keeps blobs pushed this recently through a garbage collection.
	GCGrace time.Duration `yaml:"gc_grace" env:"SEAWALL_REGISTRY_GC_GRACE"`
}

// HTTPConfig holds the HTTP server's timeouts and limits.
type HTTPConfig struct {
	ReadHeaderTimeout time.Duration `yaml:"read_header_timeout" env:"SEAWALL_HTTP_READ_HEADER_TIMEOUT"`
	IdleTimeout       time.Duration `yaml:"idle_timeout" env:"SEAWALL_HTTP_IDLE_TIMEOUT"`
	MaxHeaderBytes    int           `yaml:"max_header_bytes" env:"SEAWALL_HTTP_MAX_HEADER_BYTES"`
	// ShutdownTimeout is how long in-flight requests may take to finish
	// after SIGTERM.
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout" env:"SEAWALL_HTTP_SHUTDOWN_TIMEOUT"`
}

// MetricsConfig controls /metrics.
type MetricsConfig struct {
	// Anonymous lets anyone scrape /metrics; otherwise it needs a system
	// admin's credentials (an API token suits Prometheus).
	Anonymous bool `yaml:"anonymous" env:"SEAWALL_METRICS_ANONYMOUS"`
}

// LogConfig controls the server log.
type LogConfig struct {
	Level  string `yaml:"level" env:"SEAWALL_LOG_LEVEL"`
	Format string `yaml:"format" env:"SEAWALL_LOG_FORMAT"` // text or json
}

// Default returns the configuration used when nothing overrides it.
func Default() Config {
	return Config{
		Addr:    "127.0.0.1:5000",
		DataDir: defaultDataDir(),
		Database: DatabaseConfig{
			Driver: "sqlite",
		},
		Auth: AuthConfig{
			Issuer:                 "seawall",
			TokenTTL:               5 * time.Minute,
			APITokenTTL:            30 * 24 * time.Hour,
			LoginFailuresPerMinute: 10,
			LoginFailureBurst:      10,
			ProjectCreation:        "everyone",
		},
		Registry: RegistryConfig{
			MaxManifestSize: 4 << 20,
			UploadTTL:       24 * time.Hour,
			GCGrace:         time.Hour,
		},
		Scan:     defaultScan(),
		Webhooks: defaultWebhooks(),
		HTTP: HTTPConfig{
			ReadHeaderTimeout: 10 * time.Second,
			IdleTimeout:       2 * time.Minute,
			MaxHeaderBytes:    1 << 20,
			ShutdownTimeout:   30 * time.Second,
		},
		Log: LogConfig{Level: "info", Format: "text"},
	}
}

// defaultDataDir is $XDG_DATA_HOME/seawall, or ~/.local/share/seawall.
func defaultDataDir() string {
	if d := os.Getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "seawall")
	}
	if home, err := os.UserHomeDir(); err == nil {
		return filepath.Join(home, ".local", "share", "seawall")
	}
	return "seawall-data"
}

// LoadConfig returns Default, overridden by the YAML file at path (when
// not empty) and then by SEAWALL_* variables from getenv.
func LoadConfig(path string, getenv func(string) string) (Config, error) {
	cfg := Default()
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return cfg, fmt.Errorf("config file: %w", err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(b))
		dec.KnownFields(true)
		if err := dec.Decode(&cfg); err != nil && !errors.Is(err, io.EOF) {
			return cfg, fmt.Errorf("config file %s: %w", path, err)
		}
	}
	if err := applyEnv(&cfg, getenv); err != nil {
		return cfg, err
	}
	return cfg, nil
}

// applyEnv sets every field tagged env whose variable is set.
func applyEnv(cfg *Config, getenv func(string) string) error {
	var errs []error
	walkFields(reflect.ValueOf(cfg).Elem(), "", func(f reflect.Value, key, env string) {
		v := getenv(env)
		if v == "" {
			return
		}
		if err := setField(f, v); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", env, err))
		}
	})
	return errors.Join(errs...)
}

// walkFields calls fn for every leaf field with an env tag, with its
// dotted yaml key.
func walkFields(v reflect.Value, prefix string, fn func(f reflect.Value, key, env string)) {
	t := v.Type()
	for i := range t.NumField() {
		sf := t.Field(i)
		key := strings.Split(sf.Tag.Get("yaml"), ",")[0]
		if prefix != "" && key != "-" {
			key = prefix + "." + key
		}
		if sf.Type.Kind() == reflect.Struct {
			walkFields(v.Field(i), key, fn)
			continue
		}
		if env := sf.Tag.Get("env"); env != "" {
			fn(v.Field(i), key, env)
		}
	}
}

func setField(f reflect.Value, s string) error {
	switch f.Interface().(type) {
	case time.Duration:
		d, err := time.ParseDuration(s)
		if err != nil {
			return fmt.Errorf("want a duration such as 30s, 5m or 24h: %w", err)
		}
		f.SetInt(int64(d))
		return nil
	}
	switch f.Kind() {
	case reflect.String:
		f.SetString(s)
	case reflect.Bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return fmt.Errorf("want true or false")
		}
		f.SetBool(b)
	case reflect.Int, reflect.Int64:
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return fmt.Errorf("want an integer")
		}
		f.SetInt(n)
	case reflect.Float64:
		n, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return fmt.Errorf("want a number")
		}
		f.SetFloat(n)
	default:
		return fmt.Errorf("unsupported field kind %s", f.Kind())
	}
	return nil
}

// Validate checks the configuration and says, for each problem, which
// setting is wrong and what would be right.
func (c *Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, args...)))
	}
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		bad("addr", "%q is not host:port (for example 127.0.0.1:5000 or :5000)", c.Addr)
	}
	if c.DataDir == "" {
		bad("data", "the data directory is required")
	}
	if c.ExternalURL != "" {
		u, err := url.Parse(c.ExternalURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
			bad("external_url", "%q must be http(s)://host[:port] with no path", c.ExternalURL)
		}
	}
	if (c.TLS.Cert == "") != (c.TLS.Key == "") {
		bad("tls", "give both tls.cert and tls.key (--tls-cert and --tls-key), or neither")
	}
	for key, f := range map[string]string{"tls.cert": c.TLS.Cert, "tls.key": c.TLS.Key} {
		if f != "" {
			if _, err := os.Stat(f); err != nil {
				bad(key, "%v", err)
			}
		}
	}
	switch c.Database.Driver {
	case "sqlite":
	case "postgres":
		if c.Database.DSN == "" {
			bad("database.dsn", "the postgres driver needs a connection string, e.g. postgres://seawall@db/seawall?sslmode=verify-full")
		}
	default:
		bad("database.driver", "%q is not a driver: use sqlite or postgres", c.Database.Driver)
	}
	if c.Auth.TokenTTL < 30*time.Second || c.Auth.TokenTTL > 24*time.Hour {
		bad("auth.token_ttl", "%s is out of range: use between 30s and 24h (5m is usual)", c.Auth.TokenTTL)
	}
	if c.Auth.APITokenTTL < time.Minute {
		bad("auth.api_token_ttl", "%s is too short: use at least 1m", c.Auth.APITokenTTL)
	}
	if c.Auth.LoginFailuresPerMinute < 0 || c.Auth.LoginFailureBurst < 0 {
		bad("auth.login_failures_per_minute", "must not be negative (0 with a burst of 0 turns the limit off)")
	}
	if c.Auth.ProjectCreation != "everyone" && c.Auth.ProjectCreation != "admin" {
		bad("auth.project_creation", "%q: use everyone or admin", c.Auth.ProjectCreation)
	}
	if c.Registry.MaxManifestSize < 4096 || c.Registry.MaxManifestSize > 64<<20 {
		bad("registry.max_manifest_size", "%d bytes is out of range: use 4096 to 67108864 (4 MiB is usual)", c.Registry.MaxManifestSize)
	}
	if c.Registry.UploadTTL < time.Minute {
		bad("registry.upload_ttl", "%s is too short: use at least 1m", c.Registry.UploadTTL)
	}
	if c.Registry.GCGrace < 0 {
		bad("registry.gc_grace", "must not be negative")
	}
	errs = append(errs, c.Scan.validate()...)
	errs = append(errs, c.Webhooks.validate()...)
	if c.HTTP.ReadHeaderTimeout <= 0 || c.HTTP.IdleTimeout <= 0 || c.HTTP.ShutdownTimeout <= 0 {
		bad("http", "timeouts must be positive")
	}
	if c.HTTP.MaxHeaderBytes < 4096 {
		bad("http.max_header_bytes", "%d is too small: use at least 4096", c.HTTP.MaxHeaderBytes)
	}
	if c.AdminPassword != "" && len(c.AdminPassword) < 8 {
		bad("SEAWALL_ADMIN_PASSWORD", "the first admin's password must have at least 8 characters")
	}
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(c.Log.Level)); err != nil {
		bad("log.level", "%q: use debug, info, warn or error", c.Log.Level)
	}
	if c.Log.Format != "text" && c.Log.Format != "json" {
		bad("log.format", "%q: use text or json", c.Log.Format)
	}
	return errors.Join(errs...)
}

// NewLogger returns the logger the configuration asks for, writing to w.
func (c *Config) NewLogger(w io.Writer) *slog.Logger {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(c.Log.Level))
	opts := &slog.HandlerOptions{Level: lvl}
	if c.Log.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// dbPath is the SQLite file.
func (c *Config) dbPath() string {
	if c.Database.DSN != "" {
		return c.Database.DSN
	}
	return filepath.Join(c.DataDir, "seawall.db")
}

// isLoopback reports whether addr's host only listens on loopback.
func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
