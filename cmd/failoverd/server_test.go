package main

import (
	"bytes"
	"crypto/tls"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// served returns the certificate the server at addr presents.
func served(t *testing.T, addr string) []byte {
	t.Helper()
	conn, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0].Raw
}

// TestStatusServerFollowsTheFile: HTTPS with cert_file and key_file, a new
// certificate taken at a reload without a new listener, a new address
// moving the listener, and an address that cannot be had keeping the old.
func TestStatusServerFollowsTheFile(t *testing.T) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, `{"zones": []}`) })
	s := &statusServer{handler: ok, log: slog.New(slog.DiscardHandler)}
	defer s.stop()
	cert1, key1 := writeCert(t, t.TempDir(), time.Now().Add(time.Hour))
	c := status{Listen: "127.0.0.1:0", CertFile: cert1, KeyFile: key1}
	if err := s.apply(c); err != nil {
		t.Fatal(err)
	}
	addr := s.addr
	first := served(t, addr)

	cert2, key2 := writeCert(t, t.TempDir(), time.Now().Add(time.Hour))
	c.CertFile, c.KeyFile = cert2, key2
	if err := s.apply(c); err != nil {
		t.Fatal(err)
	}
	if s.addr != addr {
		t.Errorf("a new certificate moved the listener from %s to %s", addr, s.addr)
	}
	if bytes.Equal(served(t, addr), first) {
		t.Error("after a reload with a new certificate: the old one is still served")
	}
	_, port, _ := net.SplitHostPort(addr)
	url := "-addr=https://localhost:" + port
	if _, errs, code := runCLI("status", url, "-ca-file", cert2); code != 0 {
		t.Errorf("failoverd status over HTTPS with -ca-file: exit %d, %s", code, errs)
	}
	if _, errs, code := runCLI("status", url); code != 1 || !strings.Contains(errs, "certificate") {
		t.Errorf("failoverd status over HTTPS without the CA: exit %d, %q; want a certificate error", code, errs)
	}

	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	moved := c
	moved.Listen = taken.Addr().String()
	if err := s.apply(moved); err == nil {
		t.Error("apply on an address in use: got nil error")
	}
	if len(served(t, addr)) == 0 {
		t.Error("after a failed move: the old listener stopped")
	}

	moved.Listen = "127.0.0.1:0"
	moved.CertFile, moved.KeyFile = "", ""
	if err := s.apply(moved); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get("http://" + s.addr + "/")
	if err != nil {
		t.Fatalf("plain HTTP on the new address: %v", err)
	}
	resp.Body.Close()
	if _, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		t.Errorf("the old address %s still accepts connections after the move", addr)
	}
}

// TestStatusServerClosesIdleConnections: a connection that sends nothing
// and one kept alive after a request are both closed by the server, so
// idle clients do not hold descriptors.
func TestStatusServerClosesIdleConnections(t *testing.T) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})
	s := &statusServer{handler: ok, log: slog.New(slog.DiscardHandler)}
	defer s.stop()
	if err := s.apply(status{Listen: "127.0.0.1:0", ReadHeaderTimeout: 100 * time.Millisecond, IdleTimeout: 100 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	if s.srv.MaxHeaderBytes != defaultMaxHeaderBytes || s.srv.WriteTimeout != defaultWriteTimeout || s.srv.ReadTimeout != defaultReadTimeout {
		t.Errorf("defaults: max header %d, write %v, read %v; want %d, %v, %v", s.srv.MaxHeaderBytes, s.srv.WriteTimeout, s.srv.ReadTimeout,
			defaultMaxHeaderBytes, defaultWriteTimeout, defaultReadTimeout)
	}
	silent, err := net.Dial("tcp", s.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	kept, err := net.Dial("tcp", s.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer kept.Close()
	io.WriteString(kept, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	for name, conn := range map[string]net.Conn{"silent": silent, "kept alive": kept} {
		conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		_, err := io.Copy(io.Discard, conn) // returns at EOF: the server closed it
		if err != nil {
			t.Errorf("%s connection: %v, want closed by the server", name, err)
		}
	}
}

// TestDaemonSettingsValidated: the daemon's own settings are checked
// with the rest of the file, each problem at its place.
func TestDaemonSettingsValidated(t *testing.T) {
	t.Setenv("FAILOVERD_TEST_SECRET", "c2VjcmV0")
	cert, _ := writeCert(t, t.TempDir(), time.Now().Add(time.Hour))
	twoBINDs := strings.Replace(goodYAML, "    providers:\n", `    providers:
      - {type: rfc2136, name: ns1, server: "127.0.0.1:53", key_name: k, secret_env: FAILOVERD_TEST_SECRET}
      - {type: rfc2136, name: ns1, server: "127.0.0.2:53", key_name: k, secret_env: FAILOVERD_TEST_SECRET}
`, 1)
	for _, tc := range []struct{ text, want string }{
		{"status: {listen: 127.0.0.1:8053, idle_timeout: -1s}" + goodYAML, ":1:48: status.idle_timeout: -1s is negative"},
		{"status: {listen: 127.0.0.1:8053, max_header_bytes: -1}" + goodYAML, "status.max_header_bytes: -1 is negative"},
		{"status: {listen: 127.0.0.1:8053, cert_file: " + cert + "}" + goodYAML, "cert_file and key_file go together"},
		{"status: {listen: 127.0.0.1:8053, cert_file: /nonexistent.pem, key_file: /nonexistent.key}" + goodYAML, "status.cert_file: open /nonexistent.pem"},
		{"state_file: /nonexistent/state.json" + goodYAML, `state_file: "/nonexistent/state.json": its directory does not exist`},
		{twoBINDs, `providers[1].name: "ns1" names another provider of this zone`},
		{strings.Replace(goodYAML, "type: rfc2136", "type: rfc2136\n        name: \"\"", 1), `providers[0].name: "" is not a name`},
	} {
		err := loadString(t, tc.text)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("got %v, want %q", err, tc.want)
		}
	}
}
