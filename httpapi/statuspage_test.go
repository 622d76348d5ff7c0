package httpapi

import (
	"context"
	"fmt"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dnsfailover/failover"
)

// TestStatusPageInChromium renders the status page in a real headless
// Chromium: the DOM it builds names every record and endpoint, and its
// screenshot is a real image (written to docs/status-page.png when
// FAILOVER_UPDATE_SCREENSHOT=1).
func TestStatusPageInChromium(t *testing.T) {
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("FAILOVER_REQUIRE_SERVERS") == "1" {
			t.Fatal("chromium not found (Debian package chromium; make test installs it)")
		}
		t.Skip("chromium not found (Debian package chromium; make test installs it)")
	}
	// 2,000 records, as an operator of a large zone has them: two that the
	// test looks for, and 1,998 more sharing their checks.
	sb := &switchboard{}
	sb.set("192.0.2.10", true)
	sb.set("2001:db8::10", true)
	api := failover.Record{Name: "api", Type: "AAAA", Check: sb, Policy: fastPolicy,
		Endpoints: []failover.Endpoint{{Value: "2001:db8::10"}, {Value: "2001:db8::20", Priority: 1}}}
	recs := []failover.Record{wwwRecord(sb), api}
	for i := range 1998 {
		r := wwwRecord(sb)
		r.Name = fmt.Sprintf("host%04d", i)
		recs = append(recs, r)
	}
	m, _ := start(t, recs...)
	srv := httptest.NewServer(New(m, Options{Token: "x"}))
	for _, enc := range []string{"", "gzip"} {
		req, _ := http.NewRequest("GET", srv.URL+"/", nil)
		req.Header.Set("Accept-Encoding", enc)
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		n, _ := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		t.Logf("page at %d records, Accept-Encoding %q: %d bytes", len(recs), enc, n)
	}
	defer srv.Close()

	dir := t.TempDir()
	shot := filepath.Join(dir, "status.png")
	common := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars",
		"--user-data-dir=" + filepath.Join(dir, "profile"), "--window-size=1280,720"}
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	dom, err := exec.CommandContext(ctx, chromium, append(common, "--dump-dom", srv.URL+"/")...).Output()
	if err != nil {
		t.Fatalf("chromium --dump-dom: %v", err)
	}
	for _, want := range []string{"www A", "api AAAA", "host1997 A", "192.0.2.11", "2001:db8::10", "example.test.", `class="down"`, "need attention</th>"} {
		if !strings.Contains(string(dom), want) {
			t.Fatalf("the page Chromium rendered lacks %q:\n%s", want, dom)
		}
	}
	if out, err := exec.CommandContext(ctx, chromium, append(common, "--screenshot="+shot, srv.URL+"/")...).CombinedOutput(); err != nil {
		t.Fatalf("chromium --screenshot: %v\n%s", err, out)
	}
	f, err := os.Open(shot)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if b := img.Bounds(); b.Dx() != 1280 || b.Dy() != 720 {
		t.Fatalf("screenshot is %v, want 1280×720", b)
	}
	if os.Getenv("FAILOVER_UPDATE_SCREENSHOT") == "1" {
		data, _ := os.ReadFile(shot)
		if err := os.WriteFile("../docs/status-page.png", data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
