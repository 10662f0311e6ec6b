package server

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestDefaultConfigIsValid(t *testing.T) {
	cfg := Default()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	if cfg.Addr != "127.0.0.1:5000" || cfg.Auth.TokenTTL != 5*time.Minute || cfg.Database.Driver != "sqlite" {
		t.Errorf("defaults %+v", cfg)
	}
}

func TestLoadConfig(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "seawall.yaml")
	os.WriteFile(file, []byte(`
addr: 0.0.0.0:5443
data: /srv/seawall
external_url: https://reg.example.com
auth:
  token_ttl: 10m
  project_creation: admin
registry:
  max_manifest_size: 1048576
log:
  format: json
`), 0o600)
	env := map[string]string{
		"SEAWALL_ADDR":                           "127.0.0.1:6000", // env beats the file
		"SEAWALL_METRICS_ANONYMOUS":              "true",
		"SEAWALL_AUTH_LOGIN_FAILURES_PER_MINUTE": "2.5",
		"SEAWALL_HTTP_SHUTDOWN_TIMEOUT":          "1m",
		"SEAWALL_ADMIN_PASSWORD":                 "from-the-environment",
	}
	cfg, err := LoadConfig(file, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	want := Default()
	want.Addr = "127.0.0.1:6000"
	want.DataDir = "/srv/seawall"
	want.ExternalURL = "https://reg.example.com"
	want.Auth.TokenTTL = 10 * time.Minute
	want.Auth.ProjectCreation = "admin"
	want.Auth.LoginFailuresPerMinute = 2.5
	want.Registry.MaxManifestSize = 1 << 20
	want.Log.Format = "json"
	want.Metrics.Anonymous = true
	want.HTTP.ShutdownTimeout = time.Minute
	want.AdminPassword = "from-the-environment"
	if diff := cmp.Diff(want, cfg, cmpopts.IgnoreFields(Config{}, "Now", "Console")); diff != "" {
		t.Errorf("config (-want +got):\n%s", diff)
	}
	if err := cfg.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
}

func TestLoadConfigErrors(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name, yaml string
		env        map[string]string
		want       string
	}{
		{name: "unknown key", yaml: "adress: x\n", want: "field adress not found"},
		{name: "bad duration", yaml: "auth:\n  token_ttl: soon\n", want: "line 2: cannot unmarshal"},
		{name: "bad env duration", env: map[string]string{"SEAWALL_AUTH_TOKEN_TTL": "soon"}, want: "SEAWALL_AUTH_TOKEN_TTL"},
		{name: "bad env bool", env: map[string]string{"SEAWALL_METRICS_ANONYMOUS": "maybe"}, want: "SEAWALL_METRICS_ANONYMOUS: want true or false"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := ""
			if tc.yaml != "" {
				file = filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-")+".yaml")
				os.WriteFile(file, []byte(tc.yaml), 0o600)
			}
			_, err := LoadConfig(file, func(k string) string { return tc.env[k] })
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want it to mention %q", err, tc.want)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mutate func(*Config)
		want   string
	}{
		{"addr", func(c *Config) { c.Addr = "5000" }, "addr:"},
		{"external url path", func(c *Config) { c.ExternalURL = "https://x/y" }, "external_url:"},
		{"external url scheme", func(c *Config) { c.ExternalURL = "ftp://x" }, "external_url:"},
		{"tls half", func(c *Config) { c.TLS.Cert = "/etc/hosts" }, "give both"},
		{"tls missing", func(c *Config) { c.TLS.Cert, c.TLS.Key = "/nonexistent", "/nonexistent" }, "tls.cert"},
		{"driver", func(c *Config) { c.Database.Driver = "mysql" }, "use sqlite or postgres"},
		{"postgres dsn", func(c *Config) { c.Database.Driver = "postgres" }, "database.dsn"},
		{"token ttl", func(c *Config) { c.Auth.TokenTTL = time.Second }, "auth.token_ttl"},
		{"creation", func(c *Config) { c.Auth.ProjectCreation = "nobody" }, "auth.project_creation"},
		{"manifest size", func(c *Config) { c.Registry.MaxManifestSize = 1 }, "registry.max_manifest_size"},
		{"log level", func(c *Config) { c.Log.Level = "loud" }, "log.level"},
		{"log format", func(c *Config) { c.Log.Format = "xml" }, "log.format"},
		{"admin password", func(c *Config) { c.AdminPassword = "short" }, "SEAWALL_ADMIN_PASSWORD"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := Default()
			tc.mutate(&c)
			err := c.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Validate = %v, want it to mention %q", err, tc.want)
			}
		})
	}
}

func TestIsLoopback(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1:5000": true, "[::1]:5000": true, "localhost:5000": true,
		"0.0.0.0:5000": false, ":5000": false, "[::]:5000": false, "192.0.2.1:5000": false,
	} {
		if got := isLoopback(addr); got != want {
			t.Errorf("isLoopback(%q) = %v", addr, got)
		}
	}
}

func TestRegistryRoute(t *testing.T) {
	for path, want := range map[string]string{
		"/v2/":                                 "/v2/",
		"/v2/_catalog":                         "/v2/_catalog",
		"/v2/a/b/tags/list":                    "/v2/{name}/tags/list",
		"/v2/a/b/c/manifests/latest":           "/v2/{name}/manifests/{reference}",
		"/v2/a/blobs/sha256:abc":               "/v2/{name}/blobs/{digest}",
		"/v2/a/blobs/uploads/":                 "/v2/{name}/blobs/uploads/",
		"/v2/a/b/blobs/uploads/123":            "/v2/{name}/blobs/uploads/{reference}",
		"/v2/a/referrers/sha256:abc":           "/v2/{name}/referrers/{digest}",
		"/v2/weird":                            "/v2/other",
		"/v2/a/b/c/d/e/f/g/whatever/something": "/v2/other",
	} {
		if got := registryRoute(path); got != want {
			t.Errorf("registryRoute(%q) = %q, want %q", path, got, want)
		}
	}
}
