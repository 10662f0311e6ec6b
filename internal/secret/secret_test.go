package secret

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/seawall-dev/seawall/internal/image"
	"github.com/seawall-dev/seawall/internal/inventory"
)

// fake makes a deterministic random string over an alphabet: test secrets
// that look real to the rules without being anyone's.
func fake(seed uint64, alphabet string, n int) string {
	r := rand.New(rand.NewPCG(seed, 7))
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[r.IntN(len(alphabet))]
	}
	return string(b)
}

const (
	alnum   = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	upper32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	hexLow  = "0123456789abcdef"
	b64     = alnum + "+/"
	urlsafe = alnum + "_-"
)

func b64of(seed uint64, n int) string {
	r := rand.New(rand.NewPCG(seed, 9))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.IntN(256))
	}
	return base64.StdEncoding.EncodeToString(b)
}

func scanString(t testing.TB, s *Scanner, path, content string) []inventory.Finding {
	t.Helper()
	out, err := s.Scan(context.Background(), image.NewFile(path, 0o644, []byte(content)))
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func ids(fs []inventory.Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.ID)
	}
	sort.Strings(out)
	return out
}

var (
	awsID      = "AKIA" + fake(1, upper32, 16)
	awsSecret  = fake(2, b64, 40)
	ghp        = "ghp_" + fake(3, alnum, 36)
	privateKey = "-----BEGIN RSA PRIVATE KEY-----\n" + b64of(4, 48) + "\n" + b64of(5, 48) + "\n-----END RSA PRIVATE KEY-----"
	jwtToken   = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0." + fake(6, urlsafe, 43)
	dbPassword = "pG7" + fake(7, alnum, 13)
)

// TestDefaultRules: each built-in rule finds a true positive and leaves
// near misses alone.
func TestDefaultRules(t *testing.T) {
	s, err := New(nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		rule, path, content string
		want                bool
	}{
		{"aws-access-key-id", "/app/.env", "AWS_ACCESS_KEY_ID=" + awsID, true},
		{"aws-access-key-id", "/app/.env", "AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE", false}, // AWS's documentation key
		{"aws-access-key-id", "/app/.env", "id=" + awsID[:19], false},                       // one character short
		{"aws-access-key-id", "/app/.env", "id=X" + awsID, false},                           // not at a word boundary
		{"aws-secret-access-key", "/root/.aws/credentials", "aws_secret_access_key = " + awsSecret, true},
		{"aws-secret-access-key", "/app/env", `AWS_SECRET_ACCESS_KEY="` + awsSecret + `"`, true},
		{"aws-secret-access-key", "/app/env", "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", false},
		{"aws-secret-access-key", "/app/env", "aws_secret_access_key = " + awsSecret[:39], false},
		{"gcp-service-account-key", "/app/sa.json", `"private_key_id": "` + fake(8, hexLow, 40) + `",`, true},
		{"gcp-service-account-key", "/app/sa.json", `"private_key_id": "` + fake(8, hexLow, 39) + `",`, false},
		{"gcp-api-key", "/app/config.js", `const key = "AIza` + fake(9, urlsafe, 35) + `";`, true},
		{"gcp-api-key", "/app/config.js", `const key = "AIza` + fake(9, urlsafe, 34) + `";`, false},
		{"gcp-oauth-client-secret", "/app/client.json", `"client_secret":"GOCSPX-` + fake(10, urlsafe, 28) + `"`, true},
		{"azure-storage-account-key", "/app/appsettings.json", "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=" + b64of(11, 64) + ";EndpointSuffix=core.windows.net", true},
		{"azure-storage-account-key", "/app/appsettings.json", "AccountKey=" + b64of(11, 63), false},
		{"azure-shared-access-key", "/app/appsettings.json", "Endpoint=sb://x.servicebus.windows.net/;SharedAccessKeyName=Root;SharedAccessKey=" + b64of(12, 32), true},
		{"azure-ad-client-secret", "/app/app.py", `client_secret = "Xy17Q~` + fake(13, alnum, 34) + `"`, true},
		{"azure-ad-client-secret", "/app/app.py", `client_secret = "Xy1xQ~` + fake(13, alnum, 34) + `"`, false},
		{"github-pat", "/app/.env", "GITHUB_TOKEN=" + ghp, true},
		{"github-pat", "/app/.env", "GITHUB_TOKEN=ghp_" + fake(3, alnum, 35), false},
		{"github-fine-grained-pat", "/app/.env", "GH=github_pat_" + fake(14, alnum+"_", 82), true},
		{"github-oauth-token", "/app/.env", "GH=gho_" + fake(15, alnum, 36), true},
		{"github-app-token", "/app/.env", "GH=ghs_" + fake(16, alnum, 36), true},
		{"github-app-token", "/app/.env", "GH=xghs_" + fake(16, alnum, 36), false},
		{"github-refresh-token", "/app/.env", "GH=ghr_" + fake(17, alnum, 36), true},
		{"gitlab-token", "/app/.gitlab-ci.yml", "token: glpat-" + fake(18, urlsafe, 20), true},
		{"gitlab-token", "/app/.gitlab-ci.yml", "token: glpat-" + fake(18, urlsafe, 19), false},
		{"gitlab-token", "/app/runner.toml", `token = "glrt-` + fake(19, urlsafe, 20) + `"`, true},
		{"npm-token", "/root/.npmrc", "//registry.npmjs.org/:_authToken=npm_" + fake(20, alnum, 36), true},
		{"pypi-token", "/root/.pypirc", "password = pypi-AgEIcHlwaS5vcmc" + fake(21, urlsafe, 70), true},
		{"slack-token", "/app/bot.py", `SLACK = "xoxb-123456789012-1234567890123-` + fake(22, alnum, 24) + `"`, true},
		{"slack-token", "/app/bot.py", `SLACK = "xoxb-short"`, false},
		{"slack-webhook-url", "/app/notify.sh", "curl https://hooks.slack.com/services/T01ABCDEF/B02GHIJKL/" + fake(23, alnum, 24), true},
		{"stripe-live-key", "/app/pay.rb", `Stripe.api_key = "sk_live_` + fake(24, alnum, 24) + `"`, true},
		{"stripe-test-key", "/app/pay.rb", `Stripe.api_key = "sk_test_` + fake(25, alnum, 24) + `"`, true},
		{"stripe-live-key", "/app/pay.rb", `Stripe.api_key = "pk_live_` + fake(24, alnum, 24) + `"`, false}, // publishable
		{"sendgrid-api-key", "/app/mail.py", "SG." + fake(26, urlsafe, 22) + "." + fake(27, urlsafe, 43), true},
		{"openai-api-key", "/app/ai.py", `OPENAI_API_KEY="sk-proj-` + fake(28, urlsafe, 40) + "T3BlbkFJ" + fake(29, urlsafe, 40) + `"`, true},
		{"anthropic-api-key", "/app/ai.py", `key = "sk-ant-api03-` + fake(30, urlsafe, 93) + `AA"`, true},
		{"hashicorp-vault-token", "/app/vault.env", "VAULT_TOKEN=hvs." + fake(31, urlsafe, 90), true},
		{"hashicorp-terraform-token", "/root/.terraformrc", `token = "` + fake(32, alnum, 14) + ".atlasv1." + fake(33, alnum, 67) + `"`, true},
		{"digitalocean-token", "/app/do.env", "DO=dop_v1_" + fake(34, hexLow, 64), true},
		{"shopify-token", "/app/shop.env", "SHOPIFY=shpat_" + fake(35, hexLow, 32), true},
		{"private-key", "/root/.ssh/id_rsa", privateKey, true},
		{"private-key", "/etc/ssl/certs/ca.pem", "-----BEGIN CERTIFICATE-----\n" + b64of(36, 96) + "\n-----END CERTIFICATE-----", false},
		{"private-key", "/root/.ssh/id_rsa", "-----BEGIN RSA PRIVATE KEY-----\nshort\n-----END RSA PRIVATE KEY-----", false},
		{"putty-private-key", "/home/u/key.ppk", "PuTTY-User-Key-File-2: ssh-rsa\nEncryption: none\nComment: rsa-key\nPublic-Lines: 1\n" + b64of(37, 60) + "\nPrivate-Lines: 1\n" + b64of(38, 90) + "\n", true},
		{"jwt", "/app/test.http", "Authorization: Bearer " + jwtToken, true},
		{"jwt", "/app/test.http", "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9", false},
		{"database-url-password", "/app/settings.py", `DATABASE_URL = "postgres://app:` + dbPassword + `@db.internal:5432/app"`, true},
		{"database-url-password", "/app/settings.py", `DATABASE_URL = "mongodb+srv://app:` + dbPassword + `@cluster0.mongodb.net/db"`, true},
		{"database-url-password", "/app/settings.py", `REDIS = "redis://:` + dbPassword + `@cache:6379/0"`, true},
		{"database-url-password", "/app/settings.py", `DATABASE_URL = "postgres://app:${DB_PASSWORD}@db:5432/app"`, false},
		{"database-url-password", "/app/settings.py", `DATABASE_URL = "postgres://app@db:5432/app"`, false},
		{"generic-url-credentials", "/root/.git-credentials", "https://deploy:" + fake(39, alnum, 20) + "@git.corp.internal", true},
		{"generic-url-credentials", "/app/README", "https://user:" + fake(39, alnum, 20) + "@example.com/x", false},
		{"docker-config-auth", "/root/.docker/config.json", `{"auths":{"registry.corp":{"auth":"` + b64of(40, 24) + `"}}}`, true},
		{"docker-config-auth", "/app/other.json", `{"auths":{"registry.corp":{"auth":"` + b64of(40, 24) + `"}}}`, false}, // not a Docker config
		{"netrc-password", "/root/.netrc", "machine git.corp login ci password " + fake(41, alnum, 16), true},
		{"generic-secret", "/app/config.yaml", "api_key: " + fake(42, alnum, 32), true},
		{"generic-secret", "/app/settings.py", `SECRET_KEY = "` + fake(43, alnum+"!@#%^&*", 40) + `"`, true},
		{"generic-secret", "/app/.env", "DB_PASSWORD=" + fake(44, alnum, 18), true},
		{"generic-secret", "/app/app.js", `const password = process.env.DB_PASSWORD;`, false},
		{"generic-secret", "/app/app.py", `token = get_token_from_vault()`, false},
		{"generic-secret", "/app/config.yaml", "password: changeme", false},
		{"generic-secret", "/app/config.yaml", "password: aaaaaaaaaaaaaaaa", false}, // no entropy
		{"generic-secret", "/app/config.yaml", "secret_name: my_database_credentials", false},
		{"generic-secret", "/app/config.yaml", "password: ${DATABASE_PASSWORD}", false},
		{"generic-secret", "/app/config.yaml", "api_key: your_api_key_here_xxxxx", false},
	}
	for _, tt := range tests {
		name := tt.rule + map[bool]string{true: "/found/", false: "/missed/"}[tt.want] + tt.path
		t.Run(name, func(t *testing.T) {
			got := scanString(t, s, tt.path, tt.content+"\n")
			found := false
			for _, f := range got {
				if f.ID == tt.rule {
					found = true
					if f.Line != 1 || f.Snippet == "" || f.Kind != inventory.KindSecret || f.Title == "" {
						t.Errorf("finding %+v: want line 1, a snippet, a kind and a title", f)
					}
				}
			}
			if found != tt.want {
				t.Errorf("%s in %q: found=%v, want %v (findings %v)", tt.rule, tt.content, found, tt.want, ids(got))
			}
		})
	}
	// Every rule has a true positive above.
	have := map[string]bool{}
	for _, tt := range tests {
		if tt.want {
			have[tt.rule] = true
		}
	}
	for _, id := range s.Rules() {
		if !have[id] {
			t.Errorf("rule %s has no true-positive test", id)
		}
	}
}

// TestNoPlainSecret: no field of any finding holds a secret in full,
// even with several secrets on one line and the same secret repeated.
func TestNoPlainSecret(t *testing.T) {
	s, err := New(nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	secrets := []string{awsID, awsSecret, ghp, privateKey, jwtToken, dbPassword}
	content := strings.Join([]string{
		"aws_access_key_id=" + awsID + " aws_secret_access_key=" + awsSecret + " # " + awsID,
		"export GITHUB_TOKEN=" + ghp + "; echo " + ghp,
		privateKey,
		"Authorization: Bearer " + jwtToken,
		"DATABASE_URL=postgres://app:" + dbPassword + "@db:5432/app password=" + dbPassword,
	}, "\n")
	got := scanString(t, s, "/app/leaky.env", content)
	if len(got) < 6 {
		t.Fatalf("want at least 6 findings, got %v", ids(got))
	}
	b, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	for _, sec := range secrets {
		for _, part := range strings.Split(sec, "\n") {
			if len(part) >= 8 && strings.Contains(string(b), part) {
				t.Errorf("secret %q shows in findings: %s", part, b)
			}
		}
	}
	for _, f := range got {
		if !strings.Contains(f.Snippet, "*****") {
			t.Errorf("snippet %q is not masked", f.Snippet)
		}
	}
}

func TestMask(t *testing.T) {
	for in, want := range map[string]string{
		"":                     "*****",
		"abc":                  "*****",
		"abcdefgh":             "ab*****",
		"AKIAQYLPMN5HHHFPZAM2": "AKIA*****",
		"пароль-очень-длинный": "паро*****",
	} {
		if got := Mask(in); got != want {
			t.Errorf("Mask(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSnippet(t *testing.T) {
	s, err := New(nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("x", 200) + " token=" + ghp + " " + strings.Repeat("y", 200)
	got := scanString(t, s, "/app/min.js", long)
	if len(got) != 1 {
		t.Fatalf("findings %v", ids(got))
	}
	want := "… token=ghp_***** …"
	if got[0].Snippet != want {
		t.Errorf("snippet %q, want %q", got[0].Snippet, want)
	}
}

// TestLines: line numbers are right across chunk boundaries, for windows
// much smaller than the file.
func TestLines(t *testing.T) {
	var b strings.Builder
	want := map[int]bool{}
	for i := 1; i <= 3000; i++ {
		if i%97 == 0 {
			fmt.Fprintf(&b, "key%d = %s\n", i, "ghp_"+fake(uint64(i), alnum, 36))
			want[i] = true
			continue
		}
		fmt.Fprintf(&b, "line %d of ordinary text with a keyword: token\n", i)
	}
	for _, opts := range []Options{{}, {ChunkSize: 4096, ChunkOverlap: 256}, {ChunkSize: 300, ChunkOverlap: 100}} {
		s, err := New(nil, opts)
		if err != nil {
			t.Fatal(err)
		}
		got := map[int]bool{}
		for _, f := range scanString(t, s, "/f.txt", b.String()) {
			if f.ID == "github-pat" {
				if got[f.Line] {
					t.Errorf("chunk %d: line %d reported twice", opts.ChunkSize, f.Line)
				}
				got[f.Line] = true
			}
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("chunk %d: lines (-want +got):\n%s", opts.ChunkSize, diff)
		}
	}
}

func TestWants(t *testing.T) {
	s, err := New(nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]bool{
		"/app/config.yaml":                       true,
		"/usr/lib/x86_64-linux-gnu/libc.so.6":    false,
		"/app/logo.png":                          false,
		"/usr/share/doc/bash/README":             false,
		"/app/node_modules/x/test/fixture.pem":   false,
		"/usr/lib/python3.11/site-packages/a.py": true,
		"/app/package-lock.json":                 false,
	} {
		if got := s.Wants(path, 0o644); got != want {
			t.Errorf("Wants(%s) = %v, want %v", path, got, want)
		}
	}
	if s.Wants("/app", 0o755|1<<31) {
		t.Error("a directory is wanted")
	}
}

func TestBinary(t *testing.T) {
	content := "\x7fELF\x02\x01\x01\x00\x00\x00" + strings.Repeat("\x00", 100) + "GITHUB_TOKEN=" + ghp + "\n"
	s, err := New(nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := scanString(t, s, "/app/server", content); len(got) != 0 {
		t.Errorf("binary scanned by default: %v", ids(got))
	}
	sb, err := New(nil, Options{ScanBinaries: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := scanString(t, sb, "/app/server", content); len(ids(got)) != 1 {
		t.Errorf("ScanBinaries: findings %v, want github-pat", ids(got))
	}
}

func TestSizeLimit(t *testing.T) {
	s, err := New(nil, Options{MaxFileSize: 100})
	if err != nil {
		t.Fatal(err)
	}
	content := strings.Repeat("#", 100) + "\nGITHUB_TOKEN=" + ghp + "\n"
	if got := scanString(t, s, "/app/big.env", content); len(got) != 0 {
		t.Errorf("file over the limit scanned: %v", ids(got))
	}
}

func TestRedact(t *testing.T) {
	s, err := New(nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ name, in, want string }{
		{"none", "/bin/sh -c apt-get update", "/bin/sh -c apt-get update"},
		{"one", "/bin/sh -c echo " + ghp + " > /x", "/bin/sh -c echo ghp_***** > /x"},
		{"two", "ARG T=" + ghp + " K=" + awsID, "ARG T=ghp_***** K=AKIA*****"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := s.Redact(context.Background(), tt.in); got != tt.want {
				t.Errorf("Redact(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
