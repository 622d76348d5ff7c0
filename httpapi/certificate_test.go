package httpapi

import (
	"io"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

func TestCertificateNote(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		in   time.Duration
		want string
	}{
		{30*24*time.Hour + time.Minute, "cert expires in 30 days"},
		{2 * 24 * time.Hour, "cert expires in 2 days"},
		{47 * time.Hour, "cert expires in 47 hours"},
		{time.Hour, "cert expires in 1 hour"},
		{59 * time.Minute, "cert expires within the hour"},
		{0, "cert expired"},
		{-23 * time.Hour, "cert expired"},
		{-24 * time.Hour, "cert expired 1 day ago"},
		{-72 * time.Hour, "cert expired 3 days ago"},
	} {
		if got := certificateNote(now.Add(tc.in), now); got != tc.want {
			t.Errorf("expiry in %v: got %q, want %q", tc.in, got, tc.want)
		}
	}
	if got := certificateNote(time.Time{}, now); got != "" {
		t.Errorf("no certificate: got %q, want nothing", got)
	}
}

// certified is a switchboard whose targets presented certificates expiring
// at the given times.
type certified struct {
	switchboard
	notAfter map[string]time.Time
}

func (c *certified) CertificateExpiry(target string) (time.Time, bool) {
	t, ok := c.notAfter[target]
	return t, ok
}

// The status page says when the certificate of each endpoint that has one
// expires, and nothing for the others.
func TestPageShowsCertificateExpiry(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := &certified{notAfter: map[string]time.Time{"192.0.2.10": time.Now().Add(30*24*time.Hour + time.Hour)}}
		m, _ := start(t, wwwRecord(c))
		page, _ := io.ReadAll(serve(New(m, Options{}), "GET", "/", nil, "").Body)
		if got := strings.Count(string(page), "cert expires"); got != 1 {
			t.Errorf("got %d certificate notes, want 1 (for 192.0.2.10):\n%s", got, page)
		}
		if !strings.Contains(string(page), "<br>cert expires in 30 days</td>") {
			t.Errorf("the page lacks 192.0.2.10's \"cert expires in 30 days\":\n%s", page)
		}
	})
}
