package check

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/dnsfailover/failover/internal/certexpiry"
	"github.com/dnsfailover/failover/internal/dnsname"
	"golang.org/x/net/http/httpguts"
)

// DefaultMaxBodyBytes is how much of a response body HTTP reads when
// MaxBodyBytes is zero.
const DefaultMaxBodyBytes = 64 << 10

// HTTP requests a URL from the target address while sending the
// record's host name: the request a browser would make to the site, pinned
// to one server (what Route 53 does with an IP address and a host name).
//
// It is healthy when the status is in ExpectStatus (default 200–399) and the
// body and headers match what is asked of them. Each check opens a new
// connection unless KeepAlive is set (a reused connection would hide a dead
// listener), does not follow redirects unless asked (a redirect is judged
// by its status), and reads at most MaxBodyBytes of the body, never waiting
// on the rest: a server that streams forever or trickles fails by the
// check's deadline, not by exhausting memory.
//
// The zero value checks "GET http://TARGET/". An HTTP is safe for
// concurrent use; it must not be changed or copied once used.
type HTTP struct {
	// Scheme is "http" or "https". Empty means "http".
	Scheme string
	// Port to connect to. Zero means 80 for http and 443 for https.
	Port int
	// Method of the request. Empty means GET.
	Method string
	// Path of the request, with its query. Empty means "/".
	Path string
	// Host is sent as the Host header and, for https, as the TLS server
	// name the certificate is verified against. Empty means the target.
	Host string
	// Header holds extra request headers.
	Header http.Header
	// Body is sent as the request body.
	Body string
	// Source, when set, is the local address the check connects from (and
	// its watcher, when Watching): on a host with several addresses, it
	// picks the one a backend's access rules see. Zero means the system's
	// choice.
	Source netip.Addr

	// ExpectStatus is the set of healthy status codes. Nil means 200–399.
	ExpectStatus StatusCodes
	// BodyContains, when set, must appear in the body.
	BodyContains string
	// BodyNotContains, when set, must not appear in the body.
	BodyNotContains string
	// BodyMatches, when set, must match the body.
	BodyMatches *regexp.Regexp
	// BodyNotMatches, when set, must not match the body.
	BodyNotMatches *regexp.Regexp
	// HeaderMatches maps response header names to patterns their value
	// must match (a missing header fails).
	HeaderMatches map[string]*regexp.Regexp
	// MaxBodyBytes is how much of the body is read and matched. Zero means
	// DefaultMaxBodyBytes.
	MaxBodyBytes int64

	// TLS settings for https.
	TLS TLSOptions
	// KeepAlive reuses connections between checks of the same target.
	KeepAlive bool
	// FollowRedirects follows up to 10 redirects and judges the last
	// response.
	FollowRedirects bool
	// Watching makes the check also a watcher: it holds one idle TCP
	// connection to each endpoint's port and raises a suspicion the moment
	// that connection dies, for failover in milliseconds (see Watcher). It
	// costs one idle connection per endpoint.
	Watching bool

	once   sync.Once
	client *http.Client
	certs  certexpiry.Seen
}

// Validate reports the settings no check could use: a Scheme other than
// http or https, a Port outside 1–65535, a Method or Header that is not
// valid HTTP, a Path that is a whole URL, a Host that is not a host name
// or address (with an optional port), status codes outside 100–599, a nil
// pattern, a negative MaxBodyBytes, TLS settings that cannot apply, and a
// Source that is unspecified or multicast.
func (c *HTTP) Validate() error {
	p := problems{kind: "http"}
	switch c.Scheme {
	case "", "http", "https":
	default:
		p.add("Scheme", "%q, want \"http\" or \"https\" (lower case)", dnsname.Quote(c.Scheme))
	}
	p.port(c.Port, false)
	p.source(c.Source)
	if c.Method != "" && strings.IndexFunc(c.Method, func(r rune) bool { return !httpguts.IsTokenRune(r) }) >= 0 {
		p.add("Method", "%q is not an HTTP method", dnsname.Quote(c.Method))
	}
	if c.Path != "" {
		if u, err := url.Parse(c.Path); err != nil {
			p.add("Path", "%v", errors.Unwrap(err))
		} else if u.Scheme != "" || u.Host != "" {
			p.add("Path", "%q is a whole URL: give its path here, and Scheme, Host and Port apart", dnsname.Quote(c.Path))
		}
	}
	if c.Host != "" {
		if err := dnsname.CheckHostPort(c.Host); err != nil {
			p.add("Host", "%v", err)
		}
	}
	for name, values := range c.Header {
		switch {
		case !httpguts.ValidHeaderFieldName(name):
			p.add("Header", "%q is not a header name", dnsname.Quote(name))
		case http.CanonicalHeaderKey(name) == "Host":
			p.add("Header", "Host is not sent from Header: set the Host field")
		}
		for _, v := range values {
			if !httpguts.ValidHeaderFieldValue(v) {
				p.add("Header", "%s: %q is not a header value", name, dnsname.Quote(v))
			}
		}
	}
	if c.ExpectStatus != nil && len(c.ExpectStatus) == 0 {
		p.add("ExpectStatus", "empty: no status would be healthy (nil means 200-399)")
	}
	for i, r := range c.ExpectStatus {
		if r.Min < 100 || r.Max > 599 || r.Min > r.Max {
			p.add(fmt.Sprintf("ExpectStatus[%d]", i), "%d-%d is not a range of 100-599", r.Min, r.Max)
		}
	}
	for name, re := range c.HeaderMatches {
		if re == nil {
			p.add("HeaderMatches", "%s: nil pattern", name)
		}
	}
	if c.MaxBodyBytes < 0 {
		p.add("MaxBodyBytes", "%d is negative", c.MaxBodyBytes)
	}
	p.tls("TLS", &c.TLS)
	if c.Scheme != "https" && !c.TLS.isZero() {
		p.add("TLS", "set, but Scheme is not https: it would not be used")
	}
	return p.err()
}

// Check requests the URL from target and reports why it is not healthy.
func (c *HTTP) Check(ctx context.Context, target string) error {
	if err := c.Validate(); err != nil {
		return err
	}
	scheme := c.Scheme
	if scheme == "" {
		scheme = "http"
	}
	host := c.Host
	if host == "" {
		host = target
	}
	u := &url.URL{Scheme: scheme, Host: target, Path: "/"}
	if c.Port != 0 {
		u.Host = net.JoinHostPort(target, strconv.Itoa(c.Port))
	} else if strings.Contains(target, ":") {
		u.Host = "[" + target + "]"
	}
	if c.Path != "" {
		rel, err := url.Parse(c.Path)
		if err != nil {
			return fmt.Errorf("http check: path %q: %w", c.Path, err)
		}
		u.Path, u.RawPath, u.RawQuery = rel.Path, rel.RawPath, rel.RawQuery
	}
	method := c.Method
	if method == "" {
		method = http.MethodGet
	}
	var body io.Reader
	if c.Body != "" {
		body = strings.NewReader(c.Body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), body)
	if err != nil {
		return fmt.Errorf("http check: %w", err)
	}
	req.Host = host
	for k, vs := range c.Header {
		req.Header[k] = vs
	}
	what := fmt.Sprintf("%s %s://%s%s from %s", method, scheme, host, u.RequestURI(), u.Host)

	start := time.Now()
	resp, err := c.httpClient().Do(req)
	if err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err // the URL is in our message already
		}
		return fmt.Errorf("%s: %w after %v", what, err, time.Since(start).Round(time.Microsecond))
	}
	c.recordCertificate(target, u.Host, resp)
	defer func() {
		if c.KeepAlive { // a connection is reused only once its body is read
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
		}
		resp.Body.Close()
	}()
	if err := c.judge(resp, start); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// Watch holds an idle connection to target's port when Watching is set,
// and notices when it dies; otherwise it returns at once.
func (c *HTTP) Watch(ctx context.Context, target string, notice func(error)) {
	if !c.Watching {
		return
	}
	port := c.Port
	if port == 0 {
		port = 80
		if c.Scheme == "https" {
			port = 443
		}
	}
	watchConn(ctx, c.Source, net.JoinHostPort(target, strconv.Itoa(port)), notice)
}

// Close closes the connections that KeepAlive keeps idle between checks.
// The check stays usable: a later check opens a new connection. It always
// returns nil.
func (c *HTTP) Close() error {
	c.httpClient().CloseIdleConnections()
	return nil
}

// httpClient returns the check's client, made on first use. Requests go
// to the target's address, so the connection pool is keyed by target and
// keep-alive connections are never shared between targets; the TLS server
// name is Host (or, when empty, the target, as for any URL).
func (c *HTTP) httpClient() *http.Client {
	c.once.Do(func() {
		c.client = &http.Client{
			Transport: &http.Transport{
				DialContext:         (&net.Dialer{LocalAddr: localAddr(c.Source)}).DialContext,
				TLSClientConfig:     c.TLS.config(hostOnly(c.Host)),
				DisableKeepAlives:   !c.KeepAlive,
				MaxIdleConnsPerHost: 1,
				IdleConnTimeout:     90 * time.Second,
			},
		}
		if !c.FollowRedirects {
			c.client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		}
	})
	return c.client
}

// recordCertificate records the certificate of the last response in
// resp's redirect chain that came from addr, the target's address: a
// redirect may lead to another server, whose certificate is not the
// target's.
func (c *HTTP) recordCertificate(target, addr string, resp *http.Response) {
	for ; resp != nil; resp = resp.Request.Response {
		if resp.Request.URL.Host == addr {
			if resp.TLS != nil {
				c.certs.Record(target, *resp.TLS)
			}
			return
		}
	}
}

// hostOnly returns host without its port, if it has one.
func hostOnly(host string) string {
	if h, _, err := net.SplitHostPort(host); err == nil {
		return h
	}
	return strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
}

// judge checks the response against what is expected of it.
func (c *HTTP) judge(resp *http.Response, start time.Time) error {
	if !c.ExpectStatus.Contains(resp.StatusCode) {
		return fmt.Errorf("status %d, want %v", resp.StatusCode, c.ExpectStatus)
	}
	if resp.TLS != nil {
		if err := c.TLS.checkExpiry(*resp.TLS, start); err != nil {
			return err
		}
	}
	for name, re := range c.HeaderMatches {
		v, ok := resp.Header[http.CanonicalHeaderKey(name)]
		if !ok {
			return fmt.Errorf("no %s header", name)
		}
		if !re.MatchString(strings.Join(v, ", ")) {
			return fmt.Errorf("header %s: %q does not match /%s/", name, strings.Join(v, ", "), re)
		}
	}
	if c.BodyContains == "" && c.BodyNotContains == "" && c.BodyMatches == nil && c.BodyNotMatches == nil {
		return nil // the body is not read: closing the connection is enough
	}
	limit := c.MaxBodyBytes
	if limit <= 0 {
		limit = DefaultMaxBodyBytes
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit))
	if err != nil {
		return fmt.Errorf("reading the body after %d bytes: %w", len(body), err)
	}
	switch {
	case c.BodyContains != "" && !bytes.Contains(body, []byte(c.BodyContains)):
		return fmt.Errorf("body (%d bytes read) does not contain %q", len(body), c.BodyContains)
	case c.BodyNotContains != "" && bytes.Contains(body, []byte(c.BodyNotContains)):
		return fmt.Errorf("body contains %q", c.BodyNotContains)
	case c.BodyMatches != nil && !c.BodyMatches.Match(body):
		return fmt.Errorf("body (%d bytes read) does not match /%s/", len(body), c.BodyMatches)
	case c.BodyNotMatches != nil && c.BodyNotMatches.Match(body):
		return fmt.Errorf("body matches /%s/", c.BodyNotMatches)
	}
	return nil
}
