package failover

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// HTTPCheck requests a URL from the target address while sending the
// record's host name, as a browser would ask the site but pinned to one
// server. It is healthy when the status code is 200–399. Each check opens a
// new connection (a reused one would hide a dead listener), does not follow
// redirects, and reads at most 64 KiB of the body. The zero value checks
// "http://TARGET:80/" with TARGET as Host. An HTTPCheck is safe for
// concurrent use and must not be changed while a Manager uses it.
type HTTPCheck struct {
	// Scheme is "http" or "https". Empty means "http".
	Scheme string
	// Port to connect to. Zero means 80 for http and 443 for https.
	Port int
	// Path of the request, with its query. Empty means "/".
	Path string
	// Host is sent as the Host header and, for https, as the TLS server
	// name the certificate is verified against. Empty means the target.
	Host string
	// InsecureSkipVerify accepts any certificate. Only for tests.
	InsecureSkipVerify bool
}

const httpBodyLimit = 64 << 10

// Check requests the URL from target and reports why it is not healthy.
func (c *HTTPCheck) Check(ctx context.Context, target string) error {
	scheme := c.Scheme
	if scheme == "" {
		scheme = "http"
	}
	port := c.Port
	switch {
	case scheme != "http" && scheme != "https":
		return fmt.Errorf("http check: unsupported scheme %q", scheme)
	case port == 0 && scheme == "https":
		port = 443
	case port == 0:
		port = 80
	}
	host := c.Host
	if host == "" {
		host = target
	}
	path := c.Path
	if path == "" {
		path = "/"
	}
	addr := net.JoinHostPort(target, strconv.Itoa(port))
	u := &url.URL{Scheme: scheme, Host: net.JoinHostPort(host, strconv.Itoa(port))}
	if port == 80 && scheme == "http" || port == 443 && scheme == "https" {
		u.Host = host
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String()+path, nil)
	if err != nil {
		return fmt.Errorf("http check: %w", err)
	}
	var dialer net.Dialer
	client := &http.Client{
		Transport: &http.Transport{
			DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
				return dialer.DialContext(ctx, network, addr)
			},
			TLSClientConfig:   &tls.Config{ServerName: host, InsecureSkipVerify: c.InsecureSkipVerify},
			DisableKeepAlives: true,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err // the URL is in our message already
		}
		return fmt.Errorf("GET %s from %s: %w after %v", u.String()+path, addr, err, time.Since(start).Round(time.Microsecond))
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, httpBodyLimit))
	if resp.StatusCode < 200 || resp.StatusCode > 399 {
		return fmt.Errorf("GET %s from %s: status %d", u.String()+path, addr, resp.StatusCode)
	}
	return nil
}
