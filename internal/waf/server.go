package waf

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"time"
)

// Server runs a WAF as a standalone reverse proxy: the listener (HTTP/1.1
// and HTTP/2 over TLS, optionally h2c), the metrics endpoint, reloads on a
// signal or a file change, and graceful shutdown.
type Server struct {
	WAF *WAF
	// Load reads the configuration again for a reload: file, environment
	// and flags, in that order.
	Load func() (Config, error)
	// ConfigFile is watched for changes along with the exclusions file and
	// the rules directory; empty when there is none.
	ConfigFile string
	Log        *slog.Logger
	// Ready, if set, is called with the listening addresses once both
	// listeners accept connections.
	Ready func(addr, metricsAddr net.Addr)
}

// Run serves until ctx ends, then shuts down gracefully: it stops
// accepting, lets requests in flight finish for shutdown_grace, and
// returns. A value on reload triggers a reload (SIGHUP).
func (s *Server) Run(ctx context.Context, reload <-chan os.Signal) error {
	cfg := s.WAF.Config()
	log := s.Log
	if log == nil {
		log = s.WAF.log
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen %s: %w", cfg.Listen, err)
	}
	protos := new(http.Protocols)
	protos.SetHTTP1(true)
	protos.SetHTTP2(true)
	if cfg.H2C {
		protos.SetUnencryptedHTTP2(true)
	}
	srv := &http.Server{
		Handler:           s.WAF,
		ReadHeaderTimeout: time.Duration(cfg.ReadHeaderTimeout),
		IdleTimeout:       time.Duration(cfg.IdleTimeout),
		Protocols:         protos,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelDebug),
		MaxHeaderBytes:    1 << 20,
	}
	errc := make(chan error, 2)
	go func() {
		var err error
		if cfg.TLSCert != "" {
			err = srv.ServeTLS(ln, cfg.TLSCert, cfg.TLSKey)
		} else {
			err = srv.Serve(ln)
		}
		if !errors.Is(err, http.ErrServerClosed) {
			errc <- err
		}
	}()

	var msrv *http.Server
	var maddr net.Addr
	if cfg.Metrics != "" {
		mln, err := net.Listen("tcp", cfg.Metrics)
		if err != nil {
			srv.Close()
			return fmt.Errorf("metrics listen %s: %w", cfg.Metrics, err)
		}
		maddr = mln.Addr()
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", s.WAF.MetricsHandler())
		mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("ok\n")) })
		msrv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
		go func() {
			if err := msrv.Serve(mln); !errors.Is(err, http.ErrServerClosed) {
				errc <- err
			}
		}()
	}
	log.Info("seawall waf listening", "addr", ln.Addr().String(), "upstream", cfg.Upstream, "mode", cfg.Mode, "paranoia", cfg.Paranoia, "metrics", cfg.Metrics)
	if s.Ready != nil {
		s.Ready(ln.Addr(), maddr)
	}

	var tick <-chan time.Time
	if cfg.Watch && cfg.WatchInterval > 0 {
		t := time.NewTicker(time.Duration(cfg.WatchInterval))
		defer t.Stop()
		tick = t.C
	}
	stamp := s.fingerprint()
	for {
		select {
		case <-ctx.Done():
			log.Info("shutting down", "grace", time.Duration(cfg.ShutdownGrace))
			sctx, cancel := context.WithTimeout(context.Background(), time.Duration(cfg.ShutdownGrace))
			defer cancel()
			err := srv.Shutdown(sctx)
			if msrv != nil {
				msrv.Shutdown(sctx)
			}
			s.WAF.Close()
			return err
		case err := <-errc:
			srv.Close()
			if msrv != nil {
				msrv.Close()
			}
			return err
		case <-reload:
			s.reload(log, "signal")
			stamp = s.fingerprint()
		case <-tick:
			if f := s.fingerprint(); f != stamp {
				stamp = f
				s.reload(log, "file change")
			}
		}
	}
}

func (s *Server) reload(log *slog.Logger, why string) {
	if s.Load == nil {
		return
	}
	old := s.WAF.Config()
	cfg, err := s.Load()
	if err == nil {
		err = s.WAF.Reload(cfg)
	}
	if err != nil {
		log.Error("reload failed; the previous rules stay active", "trigger", why, "err", err)
		return
	}
	if cfg.Listen != old.Listen || cfg.Metrics != old.Metrics || cfg.TLSCert != old.TLSCert || cfg.TLSKey != old.TLSKey || cfg.H2C != old.H2C {
		log.Warn("listen, metrics, TLS and h2c settings change only on restart")
	}
	log.Info("rules reloaded", "trigger", why)
}

// fingerprint summarises the modification times and sizes of the files a
// reload would read.
func (s *Server) fingerprint() uint64 {
	cfg := s.WAF.Config()
	files := []string{s.ConfigFile, cfg.ExclusionsFile}
	if cfg.RulesDir != "" {
		m, _ := filepath.Glob(filepath.Join(cfg.RulesDir, "*.conf"))
		sort.Strings(m)
		files = append(files, m...)
	}
	h := fnv.New64a()
	for _, f := range files {
		if f == "" {
			continue
		}
		fi, err := os.Stat(f)
		if err != nil {
			fmt.Fprintf(h, "%s:missing;", f)
			continue
		}
		fmt.Fprintf(h, "%s:%d:%d;", f, fi.ModTime().UnixNano(), fi.Size())
	}
	return h.Sum64()
}
