package dnstext

import (
	"strings"
	"testing"
)

func TestQuoteAndUnquote(t *testing.T) {
	for _, tc := range []struct {
		text, quoted string
	}{
		{"", `""`},
		{"v=spf1 -all", `"v=spf1 -all"`},
		{`say "hi" \o/`, `"say \"hi\" \\o/"`},
		{"tab\there", `"tab\009here"`},
		{strings.Repeat("a", 256), `"` + strings.Repeat("a", 255) + `" "a"`},
	} {
		if got := Quote(tc.text); got != tc.quoted {
			t.Errorf("Quote(%q): got %s, want %s", tc.text, got, tc.quoted)
		}
		if got := Unquote(tc.quoted); got != tc.text {
			t.Errorf("Unquote(%s): got %q, want %q", tc.quoted, got, tc.text)
		}
	}
	for _, s := range []string{"not quoted", `"unterminated`, `"a" b`} {
		if got := Unquote(s); got != s {
			t.Errorf("Unquote(%s): got %q, want it as is", s, got)
		}
	}
}
