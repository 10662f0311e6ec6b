package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/seawall-dev/seawall/internal/imagetest"
	"github.com/seawall-dev/seawall/internal/report"
)

// TestScanSecretsNeverPlain plants secrets in an image's files, ENV,
// labels and history, scans it with the secret scanner into every report
// format with debug logging on, and greps everything the command wrote
// (stdout, stderr, the report file) for the secrets.
func TestScanSecretsNeverPlain(t *testing.T) {
	const (
		ghToken  = "ghp_Q7xk2Vn9LmR4tY8wZ3pB6cF1hJ5sD0gA2eKu"
		awsID    = "AKIAQ3PTXRB7ZLMJ4WNV"
		dbPass   = "Zp8rQ2vLx9Wm4Tk7"
		labelKey = "sk_live_4eC39HqLyjWDarjtT1zdp7dc"
		histTok  = "glpat-Xr4Tq9Lm2Vb7Kp1Zs8Wn"
		pemBody  = "MIIEowIBAAKCAQEA3Tz2mr7SZiAMfQyuvBjM9Oi4Q2Vx5tLp8RkZ3wN7yJ1hF6cB"
	)
	layers := []imagetest.Layer{imagetest.NewLayer(true,
		imagetest.File("app/.env", "GITHUB_TOKEN="+ghToken+"\nAWS_ACCESS_KEY_ID="+awsID+"\n"),
		imagetest.File("app/config.yaml", "database:\n  url: postgres://app:"+dbPass+"@db.internal:5432/app\n"),
		imagetest.File("root/.ssh/id_rsa", "-----BEGIN RSA PRIVATE KEY-----\n"+pemBody+"\n"+pemBody+"\n-----END RSA PRIVATE KEY-----\n"),
	)}
	cfg := imagetest.ConfigWith(layers, map[string]any{
		"Env":    []string{"PATH=/usr/bin", "GITHUB_TOKEN=" + ghToken},
		"Labels": map[string]any{"stripe": labelKey},
	}, []map[string]any{
		{"created_by": "/bin/sh -c echo token=" + histTok + " > /dev/null"},
	})
	img := filepath.Join(t.TempDir(), "leaky.tar")
	if err := imagetest.DockerArchiveWithConfig(img, "leaky:1", layers, cfg); err != nil {
		t.Fatal(err)
	}
	secrets := []string{ghToken, awsID, dbPass, labelKey, histTok, pemBody}
	for _, format := range report.ReportFormats {
		t.Run(format, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "report")
			code, stdout, stderr := runCLI(t, "scan", "image", img, "--scanners", "secret", "--format", format,
				"--output", out, "--ignorefile", "", "--log-level", "debug")
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			b, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			written := string(b) + stdout + stderr
			for _, s := range secrets {
				if strings.Contains(written, s) {
					t.Errorf("%s output shows the secret %q", format, s)
				}
			}
			// The findings are there, masked, where the format carries them.
			if format == report.FormatJSON {
				for _, want := range []string{"ghp_*****", "AKIA*****", "image config: ENV GITHUB_TOKEN", "image config: LABEL stripe", "image history: step 1", "echo token=glpa*****", "/root/.ssh/id_rsa", "/app/config.yaml"} {
					if !strings.Contains(written, want) {
						t.Errorf("json report lacks %q", want)
					}
				}
			}
		})
	}
}

// TestSBOMMasksHistorySecrets: an SBOM lists each layer's build command;
// a secret in one is masked there in every format, as in scan reports.
func TestSBOMMasksHistorySecrets(t *testing.T) {
	const histTok = "glpat-Xr4Tq9Lm2Vb7Kp1Zs8Wn"
	layers := []imagetest.Layer{imagetest.NewLayer(true, imagetest.File("app/a.txt", "hello\n"))}
	cfg := imagetest.ConfigWith(layers, nil, []map[string]any{
		{"created_by": "/bin/sh -c echo token=" + histTok + " > /tmp/t"},
	})
	img := filepath.Join(t.TempDir(), "leaky.tar")
	if err := imagetest.DockerArchiveWithConfig(img, "leaky:1", layers, cfg); err != nil {
		t.Fatal(err)
	}
	for _, format := range report.SBOMFormats {
		t.Run(format, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, "sbom", img, "--format", format)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			if strings.Contains(stdout+stderr, histTok) {
				t.Errorf("%s SBOM shows the secret from the image history", format)
			}
			if format == "json" && !strings.Contains(stdout, "echo token=glpa*****") {
				t.Errorf("json SBOM lacks the masked build command:\n%s", stdout)
			}
		})
	}
}
