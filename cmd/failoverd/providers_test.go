package main

import (
	"context"
	"strings"
	"testing"
)

// The rfc2136 provider's usual mistakes, which would fail every read and
// write once running, are found by `check`, at the field: a server
// without its port, an algorithm that does not exist, a secret that is
// not base64 (not shown).
func TestCheckFindsRFC2136Mistakes(t *testing.T) {
	for _, tc := range []struct{ name, from, to, secret, want string }{
		{"server without port", `server: "127.0.0.1:53"`, `server: "192.0.2.53"`, "c2VjcmV0",
			`f.yaml:4:41: zones[0].providers[0].server: "192.0.2.53" is not host:port (the port is required)`},
		{"unknown key_alg", `key_name: k,`, `key_name: k, key_alg: hmac-sha257,`, "c2VjcmV0",
			`f.yaml:4:79: zones[0].providers[0].key_alg: unknown TSIG algorithm "hmac-sha257"`},
		{"secret not base64", "", "", "hunter2!not-base64",
			"f.yaml:4:82: zones[0].providers[0].secret_env: not base64"},
		{"message size", `key_name: k,`, `key_name: k, max_message_size: 100,`, "c2VjcmV0",
			"zones[0].providers[0].max_message_size: 100: want 0 (65,535) or 512 to 65535 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("FAILOVERD_TEST_SECRET", tc.secret)
			text := strings.Replace(attackBase, tc.from, tc.to, 1)
			_, err := parse(context.Background(), "f.yaml", []byte(text), true)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want it to contain %q", err, tc.want)
			}
			if err != nil && strings.Contains(err.Error(), "hunter2") {
				t.Errorf("got %q, want the secret not shown", err)
			}
		})
	}
}

// Without -strict a secret that is not set is a warning, and the
// placeholder standing for it is not taken for a key that is not base64.
func TestRFC2136PlaceholderSecretIsNotValidated(t *testing.T) {
	lc, err := parse(context.Background(), "f.yaml", []byte(strings.Replace(attackBase, "FAILOVERD_TEST_SECRET", "FAILOVERD_TEST_UNSET", 1)), false)
	if err != nil {
		t.Fatalf("got %v, want a warning only", err)
	}
	if len(lc.warnings) != 1 || !strings.Contains(lc.warnings[0], "FAILOVERD_TEST_UNSET is empty or unset") {
		t.Errorf("got warnings %q, want the unset variable's", lc.warnings)
	}
}
