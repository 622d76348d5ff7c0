package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// The status server's bounds when the file does not set them. A client
// that opens a connection and sends nothing holds it ReadHeaderTimeout at
// most; one that keeps it alive without a request, IdleTimeout.
const (
	defaultReadHeaderTimeout = 5 * time.Second
	defaultReadTimeout       = 30 * time.Second
	defaultWriteTimeout      = 2 * time.Minute // above pprof's 30 s profile
	defaultIdleTimeout       = 15 * time.Second
	defaultMaxHeaderBytes    = 64 << 10
)

// statusServer serves the status page, the API and /metrics on
// status.listen, and follows the file across reloads: a new address or
// new bounds start a new listener (the old one stays if that fails), a
// new certificate is taken without one. Its methods are called from one
// goroutine.
type statusServer struct {
	handler http.Handler
	log     *slog.Logger

	cert atomic.Pointer[tls.Certificate]
	srv  *http.Server
	addr string // the address listened on
	cfg  status // the settings it runs with
	wg   sync.WaitGroup
}

// apply makes the server follow c: started, moved, restarted, given a
// new certificate, or stopped when c.Listen is empty. On an error the
// server runs as before.
func (s *statusServer) apply(c status) error {
	if c.Listen == "" {
		s.stop()
		return nil
	}
	var cert *tls.Certificate
	if c.CertFile != "" {
		kp, err := tls.LoadX509KeyPair(c.CertFile, c.KeyFile)
		if err != nil {
			return fmt.Errorf("status: %w", err)
		}
		cert = &kp
	}
	if s.srv != nil && sameListener(s.cfg, c) {
		s.cert.Store(cert)
		s.cfg = c
		return nil
	}
	ln, err := net.Listen("tcp", c.Listen)
	if err != nil && s.srv != nil && s.cfg.Listen == c.Listen {
		s.stop() // the same address with new bounds: it must be free first
		ln, err = net.Listen("tcp", c.Listen)
	}
	if err != nil {
		return fmt.Errorf("status.listen: %w", err)
	}
	s.stop()
	s.cert.Store(cert)
	srv := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: or(c.ReadHeaderTimeout, defaultReadHeaderTimeout),
		ReadTimeout:       or(c.ReadTimeout, defaultReadTimeout),
		WriteTimeout:      or(c.WriteTimeout, defaultWriteTimeout),
		IdleTimeout:       or(c.IdleTimeout, defaultIdleTimeout),
		MaxHeaderBytes:    or(c.MaxHeaderBytes, defaultMaxHeaderBytes),
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug), // TLS handshake errors of scanners
	}
	scheme := "http"
	if cert != nil {
		scheme = "https"
		srv.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			if c := s.cert.Load(); c != nil {
				return c, nil
			}
			return nil, errors.New("no certificate")
		}}
		ln = tls.NewListener(ln, srv.TLSConfig)
	}
	s.srv, s.cfg, s.addr = srv, c, ln.Addr().String()
	s.log.Info("status and metrics", "url", scheme+"://"+s.addr+"/")
	s.wg.Go(func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("status server", "err", err)
		}
	})
	return nil
}

// sameListener reports whether a and b run on the same listener: the same
// address, TLS or not, and bounds.
func sameListener(a, b status) bool {
	return a.Listen == b.Listen && (a.CertFile != "") == (b.CertFile != "") &&
		a.ReadHeaderTimeout == b.ReadHeaderTimeout && a.ReadTimeout == b.ReadTimeout && a.WriteTimeout == b.WriteTimeout &&
		a.IdleTimeout == b.IdleTimeout && a.MaxHeaderBytes == b.MaxHeaderBytes
}

// stop ends the server, giving requests in flight 5 s.
func (s *statusServer) stop() {
	if s.srv == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s.srv.Shutdown(ctx)
	s.wg.Wait()
	s.srv = nil
}

func or[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}
