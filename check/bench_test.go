package check

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
)

// BenchmarkHTTPCheck measures one HTTP against a loopback server,
// beside the same request made with a bare net/http client; both open a
// new connection per request, as a health check must.
func BenchmarkHTTPCheck(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	defer srv.Close()
	host, port := hostPort(b, srv.Listener.Addr().String())

	b.Run("HTTP", func(b *testing.B) {
		c := &HTTP{Port: port, Path: "/healthz", Host: "www.example.test"}
		for b.Loop() {
			if err := c.Check(b.Context(), host); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("bare net/http", func(b *testing.B) {
		client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
		url := "http://" + host + ":" + strconv.Itoa(port) + "/healthz"
		for b.Loop() {
			req, _ := http.NewRequestWithContext(b.Context(), http.MethodGet, url, nil)
			req.Host = "www.example.test"
			resp, err := client.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				b.Fatal(resp.Status)
			}
		}
	})
}
