package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/dnsfailover/failover/check/grpccheck"
)

// The gRPC check's tls: has the fields of every other check's tls:, and
// each reaches its *tls.Config: roots, client certificate, minimum
// version, and the expiry window (checked on each handshake).
func TestGRPCCheckTLS(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := writeCert(t, dir, time.Now().Add(48*time.Hour))
	text := fmt.Sprintf(`
zones:
  - name: example.test.
    providers: [{type: rfc2136, server: "127.0.0.1:53", key_name: k, secret_env: FAILOVERD_TEST_SECRET}]
    records:
      - name: www
        type: A
        endpoints: [{value: 192.0.2.1}]
        check:
          type: grpc
          port: 50051
          tls: {ca_file: %s, certificates: [{cert_file: %s, key_file: %s}], min_version: "1.3", expiry_window: 72h}
`, certFile, certFile, keyFile)
	t.Setenv("FAILOVERD_TEST_SECRET", "c2VjcmV0")
	lc, err := parse(context.Background(), "f.yaml", []byte(text), true)
	if err != nil {
		t.Fatal(err)
	}
	g := lc.Zones[0].Records[0].Check.(*grpccheck.Check)
	if g.TLS == nil || g.TLS.RootCAs == nil || len(g.TLS.Certificates) != 1 || g.TLS.MinVersion != tls.VersionTLS13 || g.TLS.VerifyConnection == nil {
		t.Fatalf("tls.Config %+v: want roots, a certificate, TLS 1.3 and an expiry check", g.TLS)
	}
	pemBytes, _ := os.ReadFile(certFile)
	block, _ := pem.Decode(pemBytes)
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	state := tls.ConnectionState{PeerCertificates: []*x509.Certificate{cert}}
	if err := g.TLS.VerifyConnection(state); err == nil || !strings.Contains(err.Error(), "within the 72h0m0s window") {
		t.Errorf("certificate expiring in 48h, window 72h: got %v, want an expiry error", err)
	}
	if err := expiring(state, time.Hour, time.Now()); err != nil {
		t.Errorf("certificate expiring in 48h, window 1h: got %v, want nil", err)
	}

	// tls: true is TLS with the defaults; no tls: is plaintext.
	tlsLine := text[strings.Index(text, "tls: {") : strings.LastIndex(text, "}")+1]
	for in, want := range map[string]uint16{"tls: true": tls.VersionTLS12, "tls: false": 0} {
		text := strings.Replace(text, tlsLine, in, 1)
		lc, err := parse(context.Background(), "f.yaml", []byte(text), true)
		if err != nil {
			t.Fatal(err)
		}
		var got uint16
		if cfg := lc.Zones[0].Records[0].Check.(*grpccheck.Check).TLS; cfg != nil {
			got = cfg.MinVersion
		}
		if got != want {
			t.Errorf("%s: MinVersion %x, want %x", in, got, want)
		}
	}
}

// An exec check's env entry usually carries a credential; a malformed one
// is refused without being echoed.
func TestExecEnvValueNotEchoedInConfigErrors(t *testing.T) {
	t.Setenv("FAILOVERD_TEST_SECRET", "c2VjcmV0")
	text := strings.Replace(attackBase, "check: {type: tcp, port: 80}", `check: {type: exec, command: /bin/true, env: ["API_TOKEN hunter2-secret-value"]}`, 1)
	_, err := parse(context.Background(), "f.yaml", []byte(text), true)
	if want := `zones[0].records[0].check: exec check: Env[0]: not KEY=value`; err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("got %v, want it to contain %q", err, want)
	}
	if strings.Contains(err.Error(), "hunter2-secret-value") {
		t.Errorf("got %q, want the value left out of the message", err)
	}
}

// Every check's tls: has the same rules: a negative expiry_window is
// refused for grpc as for https (it was dropped: no expiry check at all).
func TestGRPCNegativeExpiryWindowRefused(t *testing.T) {
	t.Setenv("FAILOVERD_TEST_SECRET", "c2VjcmV0")
	for _, tc := range []struct{ check, want string }{
		{"{type: https, tls: {expiry_window: -1h}}", "zones[0].records[0].check: http check: TLS.ExpiryWindow: negative duration -1h0m0s"},
		{"{type: grpc, port: 50051, tls: {expiry_window: -1h}}", "f.yaml:6:117: zones[0].records[0].check.tls.expiry_window: negative duration -1h0m0s"},
	} {
		text := strings.Replace(attackBase, "{type: tcp, port: 80}", tc.check, 1)
		_, err := parse(context.Background(), "f.yaml", []byte(text), true)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("check %s: got %v, want it to contain %q", tc.check, err, tc.want)
		}
	}
}

// A combination of no checks says so, instead of the library's
// "AtLeast(0)"; a list entry left empty is a missing certificate, not no
// certificate.
func TestEmptyListsOfChecksAndCertificates(t *testing.T) {
	t.Setenv("FAILOVERD_TEST_SECRET", "c2VjcmV0")
	for _, tc := range []struct{ check, want string }{
		{"{type: all, checks: []}", "f.yaml:6:90: zones[0].records[0].check.checks: all: no checks; want at least one"},
		{"{type: any, checks: ~}", "f.yaml:6:90: zones[0].records[0].check.checks: any: no checks; want at least one"},
		{"{type: all}", "f.yaml:6:70: zones[0].records[0].check.checks: missing"},
		{"{type: https, tls: {certificates: [~]}}", "f.yaml:6:105: zones[0].records[0].check.tls.certificates[0].cert_file: missing"},
		{"{type: tls, port: 443, tls: {certificates: [{cert_file: a.pem}]}}", "zones[0].records[0].check.tls.certificates[0].key_file: missing"},
	} {
		text := strings.Replace(attackBase, "{type: tcp, port: 80}", tc.check, 1)
		_, err := parse(context.Background(), "f.yaml", []byte(text), true)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("check %s: got %v, want it to contain %q", tc.check, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "AtLeast") {
			t.Errorf("check %s: got %v, want no mention of AtLeast", tc.check, err)
		}
	}
}
