package main

import (
	"fmt"
	"net"
	"net/url"
	"reflect"
	"strings"

	"github.com/dnsfailover/failover/notify"
)

// standInURL replaces a webhook URL that failoverd already refused, so
// that notify.New still reports the webhook's other problems.
const standInURL = "https://failoverd.invalid/"

// validateWebhook refuses the i-th webhook as `failoverd run` would
// (notify.New), placed in the file. A URL's problem is told by failoverd
// itself, showing the URL's scheme and host at most: the rest, or a part
// mistyped for a port, may be the token.
func (d *decoder) validateWebhook(i int, w notify.Webhook) {
	at := fmt.Sprintf("Webhooks[%d]", i)
	switch {
	case w.URL == "" || w.URL == placeholder:
		w.URL = standInURL // missing, reported; or not available in a check
	default:
		if msg := urlProblem(w.URL); msg != "" {
			d.failAt(at+".URL", msg)
			w.URL = standInURL
		}
	}
	if _, err := notify.New(w); err == nil {
		return
	}
	// Each problem is placed at its field: a field that notify.New
	// refuses beside a good URL alone; what is left is placed at the
	// webhook.
	v := reflect.ValueOf(&w).Elem()
	for i := range v.NumField() {
		f := v.Type().Field(i)
		if !f.IsExported() || f.Name == "URL" || v.Field(i).IsZero() {
			continue
		}
		probe := notify.Webhook{URL: standInURL}
		reflect.ValueOf(&probe).Elem().Field(i).Set(v.Field(i))
		if _, err := notify.New(probe); err != nil {
			for _, e := range unjoin(err) {
				d.failAt(at+"."+f.Name, e.Error())
			}
			v.Field(i).SetZero()
		}
	}
	if _, err := notify.New(w); err != nil {
		for _, e := range unjoin(err) {
			d.failAt(at, e.Error())
		}
	}
}

// urlProblem says what is wrong with a webhook URL, or "" when it is an
// absolute http or https URL with a host. It shows the URL's scheme and
// host at most.
func urlProblem(raw string) string {
	const hidden = " (the URL is not shown: it may hold a token)"
	if strings.TrimSpace(raw) != raw {
		return "begins or ends with a space" + hidden
	}
	u, err := url.Parse(raw)
	if err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" {
		return ""
	}
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return "not an absolute URL: want http:// or https:// then the host" + hidden
	}
	if scheme != "http" && scheme != "https" {
		if len(scheme) > 8 || strings.Trim(scheme, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+.-") != "" {
			return "the scheme is not http or https" + hidden
		}
		return fmt.Sprintf("scheme %s, want http or https", quote(scheme))
	}
	hostport, _, _ := strings.Cut(rest, "/")
	hostport, _, _ = strings.Cut(hostport, "?")
	hostport, _, _ = strings.Cut(hostport, "#")
	if i := strings.LastIndexByte(hostport, '@'); i >= 0 {
		hostport = hostport[i+1:] // the user and password are not shown either
	}
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	} else if i := strings.LastIndexByte(hostport, ':'); i >= 0 && !strings.HasSuffix(hostport, "]") {
		host = hostport[:i]
	}
	switch {
	case host == "":
		return fmt.Sprintf("%s:// with no host", scheme) + hidden
	case host != hostport && err != nil:
		return fmt.Sprintf("%s://%s: what follows the host's colon is not a port number", scheme, clip(host, 100)) + hidden
	default:
		return fmt.Sprintf("%s://%s…: not a valid URL", scheme, clip(host, 100)) + hidden
	}
}
