package main

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/dnsfailover/failover"
)

// apiClient talks to a running failoverd's status API.
type apiClient struct {
	base     string
	token    string
	http     *http.Client
	timeout  time.Duration // for the whole command, retries included
	deadline time.Time     // set at the first request
}

// runClient runs status, drain, undrain and failback.
func runClient(c command, args []string, stdout, stderr io.Writer) int {
	name := c.name
	flags := newFlags(c, stderr)
	addr := flags.String("addr", envOr("FAILOVERD_ADDR", "http://127.0.0.1:8053"), "URL of the running failoverd's status API (env FAILOVERD_ADDR)")
	tokenFile := flags.String("token-file", os.Getenv("FAILOVERD_TOKEN_FILE"), "file holding the operator token (env FAILOVERD_TOKEN_FILE; or the token itself in FAILOVERD_TOKEN)")
	caFile := flags.String("ca-file", "", "CA certificates (PEM) that sign an https status API's certificate")
	timeout := flags.Duration("timeout", 30*time.Second, "how long to wait for the answer, retries while failoverd reloads included")
	var zone *string
	var unhealthy, asJSON *bool
	var forD *time.Duration
	switch name {
	case "status":
		zone = flags.String("zone", "", "show this zone only")
		unhealthy = flags.Bool("unhealthy", false, "show only the records that need attention")
		asJSON = flags.Bool("json", false, "print the status as JSON, as the API gives it")
	case "drain":
		forD = flags.Duration("for", 0, "how long the drain lasts, such as 30m (default: until undrain)")
	}
	if code, ok := parseFlags(flags, args); !ok {
		return code
	}
	if forD != nil && *forD <= 0 && flagSet(flags, "for") {
		fmt.Fprintf(stderr, "failoverd drain: -for %v: want a positive duration such as 30m (leave -for out to drain until undrain)\n", *forD)
		return 2
	}
	want := map[string]int{"status": 0, "drain": 3, "undrain": 3, "failback": 2}[name]
	if flags.NArg() != want {
		fmt.Fprintf(stderr, "failoverd %s: want %d arguments, got %d\n", name, want, flags.NArg())
		flags.Usage()
		return 2
	}
	api, err := newAPIClient(*addr, *tokenFile, *caFile, *timeout)
	if err == nil {
		switch name {
		case "status":
			err = api.status(stdout, *zone, *unhealthy, *asJSON)
		case "drain":
			err = api.override(stdout, flags.Arg(0), flags.Arg(1), flags.Arg(2), failover.ForceDown, *forD)
		case "undrain":
			err = api.override(stdout, flags.Arg(0), flags.Arg(1), flags.Arg(2), failover.NoOverride, 0)
		case "failback":
			err = api.failback(stdout, flags.Arg(0), flags.Arg(1))
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "failoverd %s: %v\n", name, err)
		return 1
	}
	return 0
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

func newAPIClient(addr, tokenFile, caFile string, timeout time.Duration) (*apiClient, error) {
	u, err := url.Parse(addr)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("-addr %q is not an http:// or https:// URL", clip(addr, 200))
	}
	c := &apiClient{base: strings.TrimSuffix(u.String(), "/"), token: os.Getenv("FAILOVERD_TOKEN"), http: &http.Client{Timeout: timeout}, timeout: timeout}
	if tokenFile != "" {
		data, err := readBounded(tokenFile, maxFileBytes)
		if err != nil {
			return nil, fmt.Errorf("token file: %w", err)
		}
		c.token = strings.TrimSpace(string(data))
	}
	if caFile != "" {
		pem, err := readBounded(caFile, maxFileBytes)
		if err != nil {
			return nil, fmt.Errorf("CA file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("CA file %s: no PEM certificate", caFile)
		}
		c.http.Transport = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}
	}
	return c, nil
}

// do sends a request and decodes a JSON answer into out (when not nil);
// an answer that is not 2xx is an error with the API's message. A 503
// with Retry-After (failoverd starting or reloading) is retried after
// the wait it asks, while the command's -timeout allows.
func (c *apiClient) do(method, path string, body, out any) error {
	var data []byte
	if body != nil {
		var err error
		if data, err = json.Marshal(body); err != nil {
			return err
		}
	}
	if c.deadline.IsZero() {
		c.deadline = time.Now().Add(c.timeout)
	}
	for {
		err := c.once(method, path, data, out)
		var busy *retryAfter
		if !errors.As(err, &busy) || time.Now().Add(busy.wait).After(c.deadline) {
			return err
		}
		time.Sleep(busy.wait)
	}
}

// retryAfter is a 503 answer with a Retry-After of wait.
type retryAfter struct {
	wait time.Duration
	err  error
}

func (r *retryAfter) Error() string { return r.err.Error() }

// once sends a request once (see do).
func (c *apiClient) once(method, path string, data []byte, out any) error {
	var r io.Reader
	if data != nil {
		r = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, c.base+path, r)
	if err != nil {
		return err
	}
	body := data
	if body != nil {
		if c.token == "" {
			return errors.New("no operator token: set FAILOVERD_TOKEN, or give -token-file")
		}
		req.Header.Set("Authorization", "Bearer "+c.token)
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		var e struct {
			Error string `json:"error"`
		}
		data, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		if json.Unmarshal(data, &e) != nil || e.Error == "" {
			e.Error = strings.TrimSpace(clip(string(data), 400))
		}
		err := fmt.Errorf("%s: %s", resp.Status, e.Error)
		if secs, perr := strconv.Atoi(resp.Header.Get("Retry-After")); resp.StatusCode == http.StatusServiceUnavailable && perr == nil && secs >= 0 {
			return &retryAfter{time.Duration(secs) * time.Second, err}
		}
		return err
	}
	if out == nil {
		return nil
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

// record finds the zone of a record named by its full name, among the
// zones of the running failoverd: the longest that holds the name.
func (c *apiClient) record(name, typ string) (failover.RecordID, error) {
	var st failover.Status
	if err := c.do(http.MethodGet, "/status", nil, &st); err != nil {
		return failover.RecordID{}, err
	}
	fqdn := strings.ToLower(strings.TrimSuffix(name, ".")) + "."
	id := failover.RecordID{Type: strings.ToUpper(typ)}
	var zones []string
	for _, z := range st.Zones {
		zn := strings.ToLower(z.Name)
		zones = append(zones, z.Name)
		switch {
		case len(zn) <= len(id.Zone):
		case fqdn == zn:
			id.Zone, id.Name = z.Name, "@"
		case strings.HasSuffix(fqdn, "."+zn):
			id.Zone, id.Name = z.Name, strings.TrimSuffix(fqdn, "."+zn)
		}
	}
	if id.Zone == "" {
		return id, fmt.Errorf("%s is in none of the zones failoverd runs: %s", clip(name, 200), names(zones))
	}
	return id, nil
}

func (c *apiClient) override(w io.Writer, name, typ, value string, o failover.Override, d time.Duration) error {
	id, err := c.record(name, typ)
	if err != nil {
		return err
	}
	body := map[string]any{"zone": id.Zone, "name": id.Name, "type": id.Type, "value": value, "override": o}
	if d > 0 {
		body["for"] = d.String()
	}
	if err := c.do(http.MethodPost, "/override", body, nil); err != nil {
		return err
	}
	switch {
	case o == failover.NoOverride:
		fmt.Fprintf(w, "%s %s: override cleared; its checks decide\n", id, value)
	case d > 0:
		fmt.Fprintf(w, "%s %s: %s for %v, until %s\n", id, value, o, d, time.Now().Add(d).Format(time.DateTime))
	default:
		fmt.Fprintf(w, "%s %s: %s until cleared (failoverd undrain %s %s %s)\n", id, value, o, name, typ, value)
	}
	return nil
}

func (c *apiClient) failback(w io.Writer, name, typ string) error {
	id, err := c.record(name, typ)
	if err != nil {
		return err
	}
	if err := c.do(http.MethodPost, "/failback", map[string]string{"zone": id.Zone, "name": id.Name, "type": id.Type}, nil); err != nil {
		return err
	}
	fmt.Fprintf(w, "%s: failback requested; it is taken if a more preferred tier is healthy\n", id)
	return nil
}

// status prints the status: per zone its providers, per record what it
// publishes and each endpoint's health and override.
func (c *apiClient) status(w io.Writer, zone string, unhealthy, asJSON bool) error {
	q := url.Values{}
	if zone != "" {
		q.Set("zone", zone)
	}
	if unhealthy {
		q.Set("unhealthy", "1")
	}
	path := "/status"
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	var st failover.Status
	if err := c.do(http.MethodGet, path, nil, &st); err != nil {
		return err
	}
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(st)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	defer tw.Flush()
	if st.DryRun {
		fmt.Fprintln(tw, "DRY RUN: nothing is written")
	}
	now := time.Now()
	for _, z := range st.Zones {
		fmt.Fprintf(tw, "%s\n", z.Name)
		for _, p := range z.Providers {
			state := "in sync"
			if !p.InSync {
				state = fmt.Sprintf("NOT in sync: %d pending", len(p.Pending))
				if p.LastError != "" {
					state += ", last error: " + clip(p.LastError, 200)
				}
			}
			fmt.Fprintf(tw, "  provider %s\t%s\n", p.Name, state)
		}
		for _, r := range z.Records {
			state := strings.Join(r.Published, " ")
			switch {
			case !r.Decided:
				state += " (not decided yet)"
			case r.AllDown:
				state += " (ALL DOWN)"
			}
			fmt.Fprintf(tw, "  %s %s\t%s\tttl %v\t%s\n", r.Name, r.Type, state, r.TTL, r.Reason)
			for _, e := range r.Endpoints {
				o := ""
				if e.Override != failover.NoOverride {
					o = e.Override.String() + " until cleared"
					if !e.OverrideUntil.IsZero() {
						o = fmt.Sprintf("%s until %s (%v)", e.Override, e.OverrideUntil.Local().Format(time.DateTime), e.OverrideUntil.Sub(now).Round(time.Second))
					}
				}
				pub := ""
				if e.Published {
					pub = "published"
				}
				fmt.Fprintf(tw, "    %s\tpriority %d\t%s\t%s\t%s\n", e.Value, e.Priority, e.Health, pub, o)
			}
		}
	}
	return nil
}

// flagSet reports whether the flag name was given on the command line.
func flagSet(flags *flag.FlagSet, name string) bool {
	set := false
	flags.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}
