// Command regload measures OCI registries side by side: push and pull
// throughput of a deterministic multi-layer image at a given concurrency,
// and manifest GET latency under load (with wrk). It speaks the
// distribution API over plain HTTP itself, as docker does (POST, a
// streamed chunked PATCH, PUT ?digest=), and follows the Docker token flow
// when a target has credentials.
//
//	go run ./bench/regload -target distribution=http://127.0.0.1:5001 \
//	    -target 'seawall=http://127.0.0.1:5002,user=robot$bench+ci,pass=SECRET' \
//	    -target 'seawall-anonymous=http://127.0.0.1:5002,pull-of=seawall' \
//	    -size 1GiB -layers 16 -reps 3 -concurrency 1,16
//
// Targets are measured interleaved (A then B in odd rounds, B then A in
// even ones) so that load from other work on the machine falls on both.
// A target with pull-of=NAME does not push: it pulls what NAME pushed,
// from the same server (for anonymous pulls of a public project). The
// result is a markdown table on stdout, with each figure the median of the
// rounds and the ratio of every later target to the first one.
package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

type targetList []*target

func (t *targetList) String() string { return fmt.Sprint(len(*t)) }

func (t *targetList) Set(s string) error {
	name, rest, ok := strings.Cut(s, "=")
	if !ok || name == "" {
		return fmt.Errorf("target %q: want NAME=URL[,user=U,pass=P][,pull-of=NAME]", s)
	}
	parts := strings.Split(rest, ",")
	tg := &target{name: name, url: strings.TrimRight(parts[0], "/")}
	for _, p := range parts[1:] {
		k, v, _ := strings.Cut(p, "=")
		switch k {
		case "user":
			tg.user = v
		case "pass":
			tg.pass = v
		case "pull-of":
			tg.pullOf = v
		default:
			return fmt.Errorf("target %q: unknown option %q", s, k)
		}
	}
	if !strings.HasPrefix(tg.url, "http://") && !strings.HasPrefix(tg.url, "https://") {
		return fmt.Errorf("target %q: URL must start with http:// or https://", s)
	}
	*t = append(*t, tg)
	return nil
}

func main() {
	var targets targetList
	flag.Var(&targets, "target", "NAME=URL[,user=U,pass=P][,pull-of=NAME] (repeat; the first is the baseline)")
	size := flag.String("size", "1GiB", "image size (sum of the layers): N, NKiB, NMiB or NGiB")
	layers := flag.Int("layers", 16, "number of layers")
	reps := flag.Int("reps", 3, "rounds; figures are medians")
	conc := flag.String("concurrency", "1,16", "comma-separated concurrency levels: blobs in flight at once, in a push and in a pull of the image")
	prefix := flag.String("repo", "bench/img", "repository name prefix (a project/ prefix for seawall)")
	wrkConns := flag.Int("wrk-connections", 32, "wrk connections for manifest GET latency (0: skip)")
	wrkDur := flag.String("wrk-duration", "10s", "wrk duration per target and round")
	wrkThreads := flag.Int("wrk-threads", 2, "wrk threads")
	verify := flag.Bool("verify", true, "after each round, pull every pushed image once more and check every blob's digest (not timed)")
	jsonOut := flag.String("json", "", "also write every measurement to this file")
	flag.Parse()
	log.SetFlags(log.Ltime)
	if len(targets) < 1 {
		log.Fatal("give at least one -target")
	}
	total, err := parseSize(*size)
	if err != nil {
		log.Fatal(err)
	}
	if *layers < 1 || total < int64(*layers) {
		log.Fatal("-layers must be at least 1 and at most -size bytes")
	}
	var levels []int
	for _, s := range strings.Split(*conc, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			log.Fatalf("-concurrency: %q is not a positive number", s)
		}
		levels = append(levels, n)
	}
	byName := map[string]*target{}
	for _, t := range targets {
		t.client = newClient()
		byName[t.name] = t
	}
	for _, t := range targets {
		if t.pullOf != "" {
			src := byName[t.pullOf]
			if src == nil || src.pullOf != "" {
				log.Fatalf("target %s: pull-of=%s must name a target that pushes", t.name, t.pullOf)
			}
		}
	}
	ctx := context.Background()
	res := newResults()
	for rep := range *reps {
		order := slices.Clone(targets)
		if rep%2 == 1 {
			slices.Reverse(order)
		}
		for _, c := range levels {
			// Fresh content every round and level: nothing is already
			// stored, so every push writes (and syncs) all of it.
			img := buildImage(uint64(rep*1000+c), total, *layers)
			repo := fmt.Sprintf("%s-r%d-c%d", *prefix, rep+1, c)
			for _, t := range order {
				if t.pullOf != "" {
					continue
				}
				start := time.Now()
				if err := push(ctx, t, img, repo, c); err != nil {
					log.Fatalf("%s: push c%d: %v", t.name, c, err)
				}
				res.add(t.name, fmt.Sprintf("push c%d", c), img.size, time.Since(start))
			}
			// Pulls come after every push of the round, in the same order.
			for _, t := range order {
				start := time.Now()
				n, err := pull(ctx, t, repo, c, false)
				if err != nil {
					log.Fatalf("%s: pull c%d: %v", t.name, c, err)
				}
				if n != img.size {
					log.Fatalf("%s: pull c%d: got %d bytes, want %d", t.name, c, n, img.size)
				}
				res.add(t.name, fmt.Sprintf("pull c%d", c), n, time.Since(start))
			}
			if *verify {
				for _, t := range order {
					if _, err := pull(ctx, t, repo, c, true); err != nil {
						log.Fatalf("%s: verify: %v", t.name, err)
					}
				}
			}
		}
		if *wrkConns > 0 {
			repo := fmt.Sprintf("%s-r%d-c%d", *prefix, rep+1, levels[0])
			for _, t := range order {
				p50, p99, rps, err := runWrk(ctx, t, repo, *wrkConns, *wrkThreads, *wrkDur)
				if err != nil {
					log.Fatalf("%s: wrk: %v", t.name, err)
				}
				res.addLatency(t.name, p50, p99, rps)
			}
		}
	}
	res.print(os.Stdout, targets, levels, *wrkConns, *wrkDur, total, *layers, *reps)
	if *jsonOut != "" {
		b, _ := json.MarshalIndent(res.raw, "", "  ")
		if err := os.WriteFile(*jsonOut, b, 0o644); err != nil {
			log.Fatal(err)
		}
	}
}

func parseSize(s string) (int64, error) {
	mult := int64(1)
	for _, u := range []struct {
		suf string
		m   int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if strings.HasSuffix(s, u.suf) {
			mult, s = u.m, strings.TrimSuffix(s, u.suf)
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("size %q: want a positive number with an optional KiB, MiB or GiB suffix", s)
	}
	return n * mult, nil
}

// image is a manifest, its config and its layers, all in memory.
type image struct {
	layers   [][]byte
	digests  []string
	config   []byte
	configD  string
	manifest []byte
	size     int64 // layers + config + manifest
}

// buildImage makes layers of the same size from seed: three of every four
// are incompressible (ChaCha8 output), the fourth is compressible text.
func buildImage(seed uint64, total int64, n int) *image {
	img := &image{}
	per := total / int64(n)
	type desc struct {
		MediaType string `json:"mediaType"`
		Digest    string `json:"digest"`
		Size      int64  `json:"size"`
	}
	var ls []desc
	for i := range n {
		b := make([]byte, per)
		var s [32]byte
		copy(s[:], fmt.Sprintf("regload-%d-%d", seed, i))
		r := rand.NewChaCha8(s)
		if i%4 == 3 {
			words := []string{"registry ", "layer ", "blob ", "manifest ", "digest ", "sha256 ", "seawall\n", "push ", "pull "}
			for off := 0; off < len(b); {
				off += copy(b[off:], words[r.Uint64()%uint64(len(words))])
			}
		} else {
			r.Read(b)
		}
		img.layers = append(img.layers, b)
		d := sha(b)
		img.digests = append(img.digests, d)
		ls = append(ls, desc{"application/vnd.oci.image.layer.v1.tar", d, per})
		img.size += per
	}
	img.config, _ = json.Marshal(map[string]any{
		"architecture": "amd64", "os": "linux",
		"rootfs": map[string]any{"type": "layers", "diff_ids": img.digests},
		"config": map[string]any{"Labels": map[string]string{"seed": strconv.FormatUint(seed, 10)}},
	})
	img.configD = sha(img.config)
	img.manifest, _ = json.Marshal(map[string]any{
		"schemaVersion": 2,
		"mediaType":     "application/vnd.oci.image.manifest.v1+json",
		"config":        desc{"application/vnd.oci.image.config.v1+json", img.configD, int64(len(img.config))},
		"layers":        ls,
	})
	img.size += int64(len(img.config) + len(img.manifest))
	return img
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(s[:])
}

// target is one registry under test.
type target struct {
	name, url  string
	user, pass string
	pullOf     string
	client     *http.Client

	mu     sync.Mutex
	tokens map[string]string // scope → bearer token
	// fetching serializes token fetches: like docker's and containerd's
	// clients, parallel requests share one token per scope.
	fetching sync.Mutex
}

func newClient() *http.Client {
	return &http.Client{Transport: &http.Transport{
		MaxIdleConns:        256,
		MaxIdleConnsPerHost: 256,
		DisableCompression:  true,
		WriteBufferSize:     256 << 10,
		ReadBufferSize:      256 << 10,
	}}
}

// each runs fn for every item, n at a time, and returns every error.
func each[T any](items []T, n int, fn func(T) error) error {
	errs := make([]error, len(items))
	sem := make(chan struct{}, n)
	var wg sync.WaitGroup
	for i, it := range items {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			errs[i] = fn(it)
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// push uploads img's layers and config to repo, c blobs at a time (as
// docker push does with max-concurrent-uploads), then its manifest.
func push(ctx context.Context, t *target, img *image, repo string, c int) error {
	idx := make([]int, len(img.layers)+1)
	for i := range idx {
		idx[i] = i
	}
	err := each(idx, c, func(i int) error {
		if i == len(img.layers) {
			return pushBlob(ctx, t, repo, img.config, img.configD)
		}
		return pushBlob(ctx, t, repo, img.layers[i], img.digests[i])
	})
	if err != nil {
		return err
	}
	resp, err := t.do(ctx, repo, "push", func() (*http.Request, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPut, t.url+"/v2/"+repo+"/manifests/latest", strings.NewReader(string(img.manifest)))
		if err == nil {
			req.Header.Set("Content-Type", "application/vnd.oci.image.manifest.v1+json")
		}
		return req, err
	})
	if err != nil {
		return err
	}
	return expect(resp, http.StatusCreated, "PUT manifest")
}

// pushBlob uploads as docker does: POST, one streamed PATCH (chunked, no
// Content-Length), PUT ?digest=.
func pushBlob(ctx context.Context, t *target, repo string, b []byte, digest string) error {
	resp, err := t.do(ctx, repo, "push", func() (*http.Request, error) {
		return http.NewRequestWithContext(ctx, http.MethodPost, t.url+"/v2/"+repo+"/blobs/uploads/", nil)
	})
	if err != nil {
		return err
	}
	loc := resp.Header.Get("Location")
	if err := expect(resp, http.StatusAccepted, "POST upload"); err != nil {
		return err
	}
	resp, err = t.do(ctx, repo, "push", func() (*http.Request, error) {
		// A reader without a length makes the body chunked, like docker's.
		return http.NewRequestWithContext(ctx, http.MethodPatch, t.abs(loc), io.MultiReader(bytesReader(b)))
	})
	if err != nil {
		return err
	}
	loc = resp.Header.Get("Location")
	if err := expect(resp, http.StatusAccepted, "PATCH upload"); err != nil {
		return err
	}
	sep := "?"
	if strings.Contains(loc, "?") {
		sep = "&"
	}
	resp, err = t.do(ctx, repo, "push", func() (*http.Request, error) {
		return http.NewRequestWithContext(ctx, http.MethodPut, t.abs(loc)+sep+"digest="+digest, nil)
	})
	if err != nil {
		return err
	}
	return expect(resp, http.StatusCreated, "PUT upload")
}

func bytesReader(b []byte) io.Reader { return &sliceReader{b: b} }

// sliceReader is a bytes.Reader without WriterTo, so the transport reads
// it in its own buffer size, as it would a file.
type sliceReader struct{ b []byte }

func (r *sliceReader) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.b)
	r.b = r.b[n:]
	return n, nil
}

// pull fetches repo's manifest and then its blobs, c at a time, and
// returns the bytes received; with verify it checks every blob's digest.
func pull(ctx context.Context, t *target, repo string, c int, verify bool) (int64, error) {
	resp, err := t.do(ctx, repo, "pull", func() (*http.Request, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, t.url+"/v2/"+repo+"/manifests/latest", nil)
		if err == nil {
			req.Header.Set("Accept", "application/vnd.oci.image.manifest.v1+json")
		}
		return req, err
	})
	if err != nil {
		return 0, err
	}
	if resp.StatusCode != http.StatusOK {
		return 0, expect(resp, http.StatusOK, "GET manifest")
	}
	mb, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return 0, err
	}
	var m struct {
		Config struct{ Digest string }
		Layers []struct {
			Digest string
			Size   int64
		}
	}
	if err := json.Unmarshal(mb, &m); err != nil {
		return 0, fmt.Errorf("manifest of %s: %w", repo, err)
	}
	var mu sync.Mutex
	n := int64(len(mb))
	digests := []string{m.Config.Digest}
	for _, l := range m.Layers {
		digests = append(digests, l.Digest)
	}
	err = each(digests, c, func(d string) error {
		resp, err := t.do(ctx, repo, "pull", func() (*http.Request, error) {
			return http.NewRequestWithContext(ctx, http.MethodGet, t.url+"/v2/"+repo+"/blobs/"+d, nil)
		})
		if err != nil {
			return err
		}
		if resp.StatusCode != http.StatusOK {
			return expect(resp, http.StatusOK, "GET blob")
		}
		var w io.Writer = io.Discard
		h := sha256.New()
		if verify {
			w = h
		}
		buf := make([]byte, 256<<10)
		got, err := io.CopyBuffer(struct{ io.Writer }{w}, resp.Body, buf)
		resp.Body.Close()
		mu.Lock()
		n += got
		mu.Unlock()
		if err != nil {
			return fmt.Errorf("GET blob %s: %w", d, err)
		}
		if verify && "sha256:"+hex.EncodeToString(h.Sum(nil)) != d {
			return fmt.Errorf("blob %s of %s: content does not match its digest", d, repo)
		}
		return nil
	})
	return n, err
}

func expect(resp *http.Response, code int, what string) error {
	defer resp.Body.Close()
	if resp.StatusCode == code {
		io.Copy(io.Discard, resp.Body)
		return nil
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 2048))
	return fmt.Errorf("%s %s: status %d, want %d: %s", what, resp.Request.URL.Path, resp.StatusCode, code, b)
}

func (t *target) abs(loc string) string {
	if strings.HasPrefix(loc, "/") {
		return t.url + loc
	}
	return loc
}

// do sends the request newReq builds, with a bearer token for repo when the
// target has credentials; on 401 it fetches a token (once) and retries.
func (t *target) do(ctx context.Context, repo, action string, newReq func() (*http.Request, error)) (*http.Response, error) {
	scope := "repository:" + repo + ":pull"
	if action == "push" {
		scope += ",push"
	}
	for attempt := 0; ; attempt++ {
		req, err := newReq()
		if err != nil {
			return nil, err
		}
		t.mu.Lock()
		tok := t.tokens[scope]
		t.mu.Unlock()
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		resp, err := t.client.Do(req)
		if err != nil {
			return nil, err
		}
		if resp.StatusCode != http.StatusUnauthorized || attempt > 0 || (t.user == "" && t.pullOf == "") {
			return resp, nil
		}
		ch := resp.Header.Get("WWW-Authenticate")
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		t.fetching.Lock()
		t.mu.Lock()
		cur := t.tokens[scope]
		t.mu.Unlock()
		if cur == tok {
			// Nobody fetched a new token while this request was refused.
			cur, err = t.fetchToken(ctx, ch, scope)
			if err != nil {
				t.fetching.Unlock()
				return nil, err
			}
			t.mu.Lock()
			if t.tokens == nil {
				t.tokens = map[string]string{}
			}
			t.tokens[scope] = cur
			t.mu.Unlock()
		}
		t.fetching.Unlock()
	}
}

var challengeParam = regexp.MustCompile(`(\w+)="([^"]*)"`)

// fetchToken follows a Bearer challenge: GET realm?service=&scope= with
// Basic credentials (none for an anonymous target).
func (t *target) fetchToken(ctx context.Context, challenge, scope string) (string, error) {
	if !strings.HasPrefix(strings.ToLower(challenge), "bearer ") {
		return "", fmt.Errorf("401 without a Bearer challenge (%q)", challenge)
	}
	params := map[string]string{}
	for _, m := range challengeParam.FindAllStringSubmatch(challenge, -1) {
		params[m[1]] = m[2]
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, params["realm"], nil)
	if err != nil {
		return "", fmt.Errorf("token realm %q: %w", params["realm"], err)
	}
	q := req.URL.Query()
	q.Set("service", params["service"])
	q.Set("scope", scope)
	req.URL.RawQuery = q.Encode()
	if t.user != "" {
		req.SetBasicAuth(t.user, t.pass)
	}
	resp, err := t.client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 2048))
		return "", fmt.Errorf("token: status %d: %s", resp.StatusCode, b)
	}
	var tr struct {
		Token       string `json:"token"`
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tr); err != nil {
		return "", fmt.Errorf("token response: %w", err)
	}
	if tr.Token == "" {
		tr.Token = tr.AccessToken
	}
	return tr.Token, nil
}

var wrkPercentile = regexp.MustCompile(`(?m)^\s+(50|99)(?:\.000)?%\s+([\d.]+)(us|ms|s)\s*$`)
var wrkRPS = regexp.MustCompile(`Requests/sec:\s+([\d.]+)`)

// runWrk measures GET of repo's manifest with wrk at conns connections,
// with a bearer token (from the token flow) when the target needs one.
func runWrk(ctx context.Context, t *target, repo string, conns, threads int, dur string) (p50, p99 time.Duration, rps float64, err error) {
	url := t.url + "/v2/" + repo + "/manifests/latest"
	// One GET through the token flow gives the token wrk will send.
	resp, err := t.do(ctx, repo, "pull", func() (*http.Request, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err == nil {
			req.Header.Set("Accept", "application/vnd.oci.image.manifest.v1+json")
		}
		return req, err
	})
	if err != nil {
		return 0, 0, 0, err
	}
	if err := expect(resp, http.StatusOK, "GET manifest"); err != nil {
		return 0, 0, 0, err
	}
	args := []string{"-t", strconv.Itoa(threads), "-c", strconv.Itoa(conns), "-d", dur, "--latency",
		"-H", "Accept: application/vnd.oci.image.manifest.v1+json"}
	t.mu.Lock()
	tok := t.tokens["repository:"+repo+":pull"]
	t.mu.Unlock()
	if tok != "" {
		args = append(args, "-H", "Authorization: Bearer "+tok)
	}
	// wrk reports "Non-2xx or 3xx responses" when any request failed.
	out, err := exec.CommandContext(ctx, "wrk", append(args, url)...).CombinedOutput()
	if err != nil {
		return 0, 0, 0, fmt.Errorf("wrk: %v: %s", err, out)
	}
	if strings.Contains(string(out), "Non-2xx") {
		return 0, 0, 0, fmt.Errorf("wrk saw error responses: %s", out)
	}
	for _, m := range wrkPercentile.FindAllStringSubmatch(string(out), -1) {
		v, _ := strconv.ParseFloat(m[2], 64)
		unit := map[string]time.Duration{"us": time.Microsecond, "ms": time.Millisecond, "s": time.Second}[m[3]]
		d := time.Duration(v * float64(unit))
		if m[1] == "50" {
			p50 = d
		} else {
			p99 = d
		}
	}
	if m := wrkRPS.FindStringSubmatch(string(out)); m != nil {
		rps, _ = strconv.ParseFloat(m[1], 64)
	}
	if p50 == 0 || p99 == 0 {
		return 0, 0, 0, fmt.Errorf("could not read wrk's latency distribution: %s", out)
	}
	log.Printf("%s wrk: p50 %v p99 %v %.0f req/s", t.name, p50, p99, rps)
	return p50, p99, rps, nil
}
