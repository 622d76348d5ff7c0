package dnsname

import (
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	long := strings.Repeat("a", 63)
	for _, tc := range []struct {
		name     string
		wildcard bool
		errHas   string // "" for valid
	}{
		{"www", false, ""},
		{"www.example.com", false, ""},
		{"_acme-challenge.www", false, ""},
		{"xn--bcher-kva.example", false, ""},
		{"192.0.2.1", false, ""}, // a valid name; callers that want no IP check for one
		{"*.www", true, ""},
		{long + "." + long, false, ""},
		{"", false, "empty host name"},
		{"*.www", false, `'*' is not allowed`},
		{"www.*", true, `'*' is not allowed`},
		{"w*w", true, `'*' is not allowed`},
		{"-www", false, "starts or ends with a hyphen"},
		{"www-.example", false, "starts or ends with a hyphen"},
		{"a..b", false, `label "" must have 1 to 63`},
		{long + "a.example", false, "must have 1 to 63"},
		{strings.Repeat("a.", 127), false, "254 characters, more than 253"}, // 127 labels with a trailing empty one is 254
		{strings.Repeat(long+".", 3) + strings.Repeat("a", 61), false, ""},  // 253
		{strings.Repeat(long+".", 3) + strings.Repeat("a", 62), false, "254 characters"},
		{"bad host", false, `' ' is not allowed`},
		{"ex\x00ample", false, `'\x00' is not allowed`},
	} {
		err := Check(tc.name, tc.wildcard)
		if tc.errHas == "" && err != nil || tc.errHas != "" && (err == nil || !strings.Contains(err.Error(), tc.errHas)) {
			t.Errorf("Check(%q, %v): got %v, want error containing %q", Quote(tc.name), tc.wildcard, err, tc.errHas)
		}
	}
}

func TestCheckHostPort(t *testing.T) {
	for _, tc := range []struct {
		host   string
		errHas string
	}{
		{"www.example.com", ""},
		{"www.example.com.", ""},
		{"www.example.com:8443", ""},
		{"192.0.2.1:80", ""},
		{"[2001:db8::1]:8443", ""},
		{"[2001:db8::1]", ""},
		{"2001:db8::1", "write it in brackets"},
		{"[192.0.2.1]", "brackets are for an IPv6 address"},
		{"www.example.com:0", `port "0" is not 1-65535`},
		{"www.example.com:http", `port "http"`},
		{"www.example.com:70000", "not 1-65535"},
		{"a:b:c", "not allowed"},
		{"-bad:80", "hyphen"},
		{"", "empty"},
	} {
		err := CheckHostPort(tc.host)
		if tc.errHas == "" && err != nil || tc.errHas != "" && (err == nil || !strings.Contains(err.Error(), tc.errHas)) {
			t.Errorf("CheckHostPort(%q): got %v, want error containing %q", tc.host, err, tc.errHas)
		}
	}
}

func TestQuote(t *testing.T) {
	if got := Quote(strings.Repeat("x", 10<<20)); len(got) > 70 {
		t.Fatalf("got %d bytes, want at most 64 and an ellipsis", len(got))
	}
	if got := Quote("short"); got != "short" {
		t.Fatalf("got %q, want %q", got, "short")
	}
}
