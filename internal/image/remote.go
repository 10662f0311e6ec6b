package image

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// openRemote resolves a registry reference. Credentials come from
// --username/--password or else from the Docker config
// (~/.docker/config.json, $DOCKER_CONFIG, credential helpers). Plain HTTP
// is allowed only for loopback registries or with Insecure.
func openRemote(ctx context.Context, s string, platform *v1.Platform, opts Options) (*Image, error) {
	var nopts []name.Option
	if opts.Insecure {
		nopts = append(nopts, name.Insecure)
	}
	ref, err := name.ParseReference(s, nopts...)
	if err != nil {
		return nil, fmt.Errorf("%q is neither a local file nor a valid image reference: %w", s, err)
	}
	ropts := []remote.Option{
		remote.WithContext(ctx),
		remote.WithTransport(registryTransport(opts.Insecure)),
		remote.WithUserAgent("seawall"),
	}
	if opts.Username != "" || opts.Password != "" {
		ropts = append(ropts, remote.WithAuth(&authn.Basic{Username: opts.Username, Password: opts.Password}))
	} else {
		ropts = append(ropts, remote.WithAuthFromKeychain(authn.DefaultKeychain))
	}
	want := platform
	if want == nil {
		want = HostPlatform()
	}
	ropts = append(ropts, remote.WithPlatform(*want))

	desc, err := remote.Get(ref, ropts...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", s, explainRemote(err))
	}
	rimg, err := desc.Image() // resolves an index to the platform's image
	if err != nil {
		return nil, fmt.Errorf("%s: %w", s, explainRemote(err))
	}
	dig, err := rimg.Digest()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", s, err)
	}
	m, err := rimg.Manifest()
	if err != nil {
		return nil, fmt.Errorf("%s: manifest: %w", s, err)
	}
	img := &Image{Kind: KindRegistry, Name: s, ManifestDigest: dig.String(), ConfigDigest: m.Config.Digest.String()}
	if _, ok := ref.(name.Tag); ok {
		img.RepoTags = []string{ref.Name()}
	}
	img.RepoDigests = []string{ref.Context().Name() + "@" + dig.String()}
	layers, err := rimg.Layers()
	if err != nil {
		return nil, fmt.Errorf("%s: layers: %w", s, err)
	}
	for i, rl := range layers {
		d, err := rl.Digest()
		if err != nil {
			return nil, err
		}
		mt, _ := rl.MediaType()
		size, _ := rl.Size()
		rl := rl
		img.Layers = append(img.Layers, &Layer{
			Index:     i,
			Digest:    d.String(),
			MediaType: string(mt),
			Size:      size,
			// Compressed verifies the digest as it streams.
			open: func(context.Context) (io.ReadCloser, error) { return rl.Compressed() },
		})
	}
	raw, err := rimg.RawConfigFile()
	if err != nil {
		return nil, fmt.Errorf("%s: config: %w", s, err)
	}
	if err := img.parseConfig(raw); err != nil {
		return nil, err
	}
	if platform != nil && img.Config != nil && img.Config.OS != "" {
		got := &v1.Platform{OS: img.Config.OS, Architecture: img.Config.Architecture, Variant: img.Config.Variant}
		if !got.Satisfies(*platform) {
			return nil, fmt.Errorf("%s is a single-platform image for %s, not %s", s, platformString(got), platformString(platform))
		}
	}
	return img, nil
}

// registryTransport refuses plain HTTP to anything but loopback unless
// insecure is set. go-containerregistry on its own also falls back to
// HTTP for private (RFC 1918) addresses, which is too lax for a security tool.
func registryTransport(insecure bool) http.RoundTripper {
	base := remote.DefaultTransport.(*http.Transport).Clone()
	if insecure {
		base.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // the user asked for --insecure
	}
	return &httpGuard{next: base, insecure: insecure}
}

type httpGuard struct {
	next     http.RoundTripper
	insecure bool
}

func (g *httpGuard) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Scheme == "http" && !g.insecure && !isLoopback(r.URL.Hostname()) {
		return nil, fmt.Errorf("refusing plain HTTP to %s: use TLS, or pass --insecure if this registry really serves plain HTTP", r.URL.Host)
	}
	return g.next.RoundTrip(r)
}

func isLoopback(host string) bool {
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// explainRemote adds what to do to the registry errors users hit most.
func explainRemote(err error) error {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "UNAUTHORIZED") || strings.Contains(msg, "401"):
		return fmt.Errorf("%w (log in with `docker login`, or pass --username and --password)", err)
	case strings.Contains(msg, "MANIFEST_UNKNOWN") || strings.Contains(msg, "NAME_UNKNOWN"):
		return fmt.Errorf("%w (check the repository name and tag)", err)
	case strings.Contains(msg, "server gave HTTP response to HTTPS client"):
		return fmt.Errorf("%w (the registry serves plain HTTP; pass --insecure if that is expected)", err)
	}
	return err
}
