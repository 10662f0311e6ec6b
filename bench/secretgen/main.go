// Command secretgen writes the synthetic tree of the secret-scanning
// benchmark: deterministic (the same bytes on every machine and every
// run), about -size bytes of source-like text, minified JavaScript,
// configuration, logs and binaries, with secrets planted at known places.
// The planted secrets are listed in DIR.planted.tsv (path, line, kind):
// fakes made by a seeded generator, valid in form only.
//
//	go run ./bench/secretgen -out DIR [-size 1073741824]
package main

import (
	"bufio"
	"encoding/base64"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
)

const (
	alnum  = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	upper  = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	hexLow = "0123456789abcdef"
)

type gen struct {
	r       *rand.Rand
	planted *bufio.Writer
	root    string
	written int64
}

func (g *gen) str(alphabet string, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[g.r.IntN(len(alphabet))]
	}
	return string(b)
}

// secret returns a planted secret line of some kind.
func (g *gen) secret() (kind, line string) {
	switch g.r.IntN(8) {
	case 0:
		return "aws-access-key-id", "AWS_ACCESS_KEY_ID=AKIA" + g.str(upper, 16)
	case 1:
		return "github-pat", `GITHUB_TOKEN = "ghp_` + g.str(alnum, 36) + `"`
	case 2:
		return "gitlab-token", "token: glpat-" + g.str(alnum, 20)
	case 3:
		return "stripe-live-key", `stripe.api_key = "sk_live_` + g.str(alnum, 24) + `"`
	case 4:
		return "slack-token", `SLACK_BOT_TOKEN="xoxb-` + g.str("0123456789", 12) + "-" + g.str("0123456789", 13) + "-" + g.str(alnum, 24) + `"`
	case 5:
		return "database-url", `DATABASE_URL = "postgres://app:` + g.str(alnum, 16) + `@db.internal:5432/app"`
	case 6:
		return "aws-secret-access-key", "aws_secret_access_key = " + g.str(alnum+"+/", 40)
	default:
		b := make([]byte, 96)
		for i := range b {
			b[i] = byte(g.r.IntN(256))
		}
		k := base64.StdEncoding.EncodeToString(b)
		return "private-key", "-----BEGIN RSA PRIVATE KEY-----\n" + k[:64] + "\n" + k[64:] + "\n-----END RSA PRIVATE KEY-----"
	}
}

// The vocabulary of the source-like text. One line in a hundred uses the
// words that secret rules look for (token, secret, password, key, auth,
// access, api): about 400 such words per MiB, as in CPython's standard
// library (Go's sources have about 200).
var (
	idents = []string{"value", "result", "config", "handler", "request", "response", "buffer", "index", "count", "items",
		"user", "session", "client", "server", "context", "options", "params", "data", "payload", "cache", "node", "entry"}
	keyIdents = []string{"keyboard", "monkey", "tokenizer", "access", "accessor", "author", "secretary", "apiVersion",
		"passwordless", "authHeader", "tokens", "keyName", "secretName", "authorize", "apiClient"}
	stmts = []string{"if %s != nil {", "return %s, nil", "for i := 0; i < len(%s); i++ {", "%s = append(%s, x)", "}",
		"// %s is read once and cached", "log.Printf(\"%%s: %%v\", %s, err)", "%s := make(map[string]int)",
		"def %s(self, *args):", "    return self.%s", "const %s = require('./%s');", "%s.%s = function(e) { return e; };",
		"%s: \"%s\"", "  - name: %s", "    value: \"%s\"", "<%s>%s</%s>", "SELECT %s FROM %s WHERE id = ?;"}
	keyStmts = []string{"password = os.environ[\"%s\"]", "token = get_token(%s)", "api_key: ${%s}", "# set the secret in %s"}
)

func (g *gen) sourceLine() string {
	s, words := stmts[g.r.IntN(len(stmts))], idents
	switch g.r.IntN(200) {
	case 0:
		s = keyStmts[g.r.IntN(len(keyStmts))]
	case 1:
		words = keyIdents
	}
	n := strings.Count(s, "%s")
	args := make([]any, n)
	for i := range args {
		args[i] = words[g.r.IntN(len(words))]
	}
	return strings.Repeat("\t", g.r.IntN(3)) + fmt.Sprintf(s, args...)
}

func (g *gen) write(rel string, body func(w *bufio.Writer) int) {
	p := filepath.Join(g.root, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		panic(err)
	}
	f, err := os.Create(p)
	if err != nil {
		panic(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	g.written += int64(body(w))
	if err := w.Flush(); err != nil {
		panic(err)
	}
	if err := f.Close(); err != nil {
		panic(err)
	}
}

// textFile writes size bytes of lines, planting a secret with the given
// probability per file.
func (g *gen) textFile(rel string, size int, line func() string) {
	plantAt := -1
	if g.r.IntN(60) == 0 {
		plantAt = g.r.IntN(max(1, size/40))
	}
	g.write(rel, func(w *bufio.Writer) int {
		n, ln := 0, 0
		for n < size {
			ln++
			s := line()
			if ln == plantAt {
				kind, sec := g.secret()
				fmt.Fprintf(g.planted, "/%s\t%d\t%s\n", rel, ln, kind)
				s = sec
				ln += strings.Count(sec, "\n")
			}
			w.WriteString(s)
			w.WriteByte('\n')
			n += len(s) + 1
		}
		return n
	})
}

func (g *gen) minified(rel string, size int) {
	parts := []string{"function(e,t){return e&&t}", "var n=e.length;", "t.id=n;", "o.next=r.next||null;", "if(!a)throw new Error(\"x\");",
		"u.push({id:i,name:s});", "return Object.assign({},e,t)}", "e.value=t;", "\"use strict\";", "r.init=function(){};",
		"a.b=c;", "for(var i=0;i<n;i++)s+=e[i];", "t.style.width=w+\"px\";"}
	keyParts := []string{"t.key=n;", "o.token=r.token||null;", "e.apiKey=t;", "r.auth=function(){};"}
	plant := g.r.IntN(4) == 0
	g.write(rel, func(w *bufio.Writer) int {
		n := 0
		for n < size {
			s := parts[g.r.IntN(len(parts))]
			if g.r.IntN(50) == 0 {
				s = keyParts[g.r.IntN(len(keyParts))]
			}
			if plant && n > size/2 {
				kind, sec := "github-pat", `var T="ghp_`+g.str(alnum, 36)+`";`
				fmt.Fprintf(g.planted, "/%s\t%d\t%s\n", rel, 1, kind)
				s, plant = sec, false
			}
			w.WriteString(s)
			n += len(s)
		}
		w.WriteByte('\n')
		return n + 1
	})
}

func (g *gen) binary(rel string, size int) {
	g.write(rel, func(w *bufio.Writer) int {
		w.WriteString("\x7fELF\x02\x01\x01\x00")
		b := make([]byte, 4096)
		n := 8
		for n < size {
			for i := range b {
				b[i] = byte(g.r.Uint32())
			}
			m := min(len(b), size-n)
			w.Write(b[:m])
			n += m
		}
		return n
	})
}

func main() {
	out := flag.String("out", "", "directory to write (must not exist)")
	size := flag.Int64("size", 1<<30, "approximate total size in bytes")
	flag.Parse()
	if *out == "" {
		fmt.Fprintln(os.Stderr, "usage: secretgen -out DIR [-size BYTES]")
		os.Exit(2)
	}
	if _, err := os.Stat(*out); err == nil {
		fmt.Fprintf(os.Stderr, "secretgen: %s exists\n", *out)
		os.Exit(1)
	}
	pf, err := os.Create(strings.TrimSuffix(*out, "/") + ".planted.tsv")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	g := &gen{r: rand.New(rand.NewPCG(2026, 6)), planted: bufio.NewWriter(pf), root: *out}
	// The tree holds .go files that are not Go; a go.mod at its root keeps
	// it out of the enclosing module's ./... when it sits inside a checkout.
	if err = os.MkdirAll(*out, 0o755); err == nil {
		err = os.WriteFile(filepath.Join(*out, "go.mod"), []byte("module secretgen.invalid/synthetic\n"), 0o644)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	exts := []string{"go", "py", "js", "java", "rb", "yaml", "json", "conf", "md", "sh", "ts", "xml"}
	for i := 0; g.written < *size; i++ {
		dir := fmt.Sprintf("src/pkg%03d/mod%02d", i/40%1000, i%40)
		switch k := g.r.IntN(100); {
		case k < 80: // source and configuration
			ext := exts[g.r.IntN(len(exts))]
			g.textFile(fmt.Sprintf("%s/file%05d.%s", dir, i, ext), 1024+g.r.IntN(60<<10), g.sourceLine)
		case k < 83: // minified bundles, 64 KiB to 2 MiB on one line
			g.minified(fmt.Sprintf("%s/bundle%05d.min.js", dir, i), 64<<10+g.r.IntN(2<<20))
		case k < 88: // logs
			g.textFile(fmt.Sprintf("var/log/app%05d.log", i), 4096+g.r.IntN(256<<10), func() string {
				return fmt.Sprintf("2026-01-%02d 12:%02d:%02d INFO request id=%s user=%s status=200", 1+g.r.IntN(28), g.r.IntN(60), g.r.IntN(60), g.str(hexLow, 16), idents[g.r.IntN(len(idents))])
			})
		default: // binaries, with and without a telling name
			name := fmt.Sprintf("%s/lib%05d.so", dir, i)
			if g.r.IntN(2) == 0 {
				name = fmt.Sprintf("bin/tool%05d", i)
			}
			g.binary(name, 4<<10+g.r.IntN(512<<10))
		}
	}
	g.planted.Flush()
	pf.Close()
	fmt.Printf("secretgen: wrote %d bytes under %s\n", g.written, *out)
}
