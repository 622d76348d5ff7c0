package dnstxt

import (
	"strings"
	"testing"

	"github.com/miekg/dns"
)

var texts = []string{
	"plain", `say "hi"`, `back\slash`, "tab\there", "ünïcödé", strings.Repeat("a", 254) + "é",
	strings.Repeat("b", 600), "", `ends in \`, `\065 is not an escape here`,
}

// Raw text survives Strings, the wire (as package dns packs and unpacks
// it), and Unescape; no string is longer than a TXT string may be.
func TestStringsRoundTripThroughTheWire(t *testing.T) {
	for _, text := range texts {
		strs := Strings(text)
		for _, s := range strs {
			raw, err := Unescape(s)
			if err != nil {
				t.Fatalf("%q: %v", text, err)
			}
			if len(raw) > MaxString {
				t.Errorf("%q: got a string of %d octets, want at most %d", text, len(raw), MaxString)
			}
		}
		rr := &dns.TXT{Hdr: dns.RR_Header{Name: ".", Rrtype: dns.TypeTXT, Class: dns.ClassINET}, Txt: strs}
		buf := make([]byte, dns.Len(rr)+10)
		off, err := dns.PackRR(rr, buf, 0, nil, false)
		if err != nil {
			t.Fatalf("%q: packing: %v", text, err)
		}
		back, _, err := dns.UnpackRR(buf[:off], 0)
		if err != nil {
			t.Fatalf("%q: unpacking: %v", text, err)
		}
		got, err := Unescape(strings.Join(back.(*dns.TXT).Txt, ""))
		if err != nil || got != text {
			t.Errorf("through the wire: got %q, %v, want %q", got, err, text)
		}
	}
}

func TestQuoteUnquote(t *testing.T) {
	for _, text := range texts {
		q := Quote(text)
		if !strings.HasPrefix(q, `"`) || !strings.HasSuffix(q, `"`) {
			t.Errorf("Quote(%q) = %s, want it quoted", text, q)
		}
		if got, err := Unquote(q); err != nil || got != text {
			t.Errorf("Unquote(Quote(%q)) = %q, %v, want it back", text, got, err)
		}
	}
	for _, tc := range []struct{ in, want string }{
		{`"a" "b"`, "ab"},
		{`bare`, "bare"},
		{`"\"x\""`, `"x"`},
		{`"caf\195\169"`, "café"},
	} {
		if got, err := Unquote(tc.in); err != nil || got != tc.want {
			t.Errorf("Unquote(%s) = %q, %v, want %q", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"\"a\"\nb", `"unterminated`} {
		if got, err := Unquote(bad); err == nil {
			t.Errorf("Unquote(%q) = %q, want an error", bad, got)
		}
	}
}

func TestUnescapeRejectsBadEscapes(t *testing.T) {
	for _, bad := range []string{`a\`, `\256`} {
		if got, err := Unescape(bad); err == nil {
			t.Errorf("Unescape(%q) = %q, want an error", bad, got)
		}
	}
}

func TestText(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`"v=spf1 -all"`, "v=spf1 -all"},
		{`"a" "b"`, "ab"},
		{`"say \"hi\""`, `say "hi"`},
		{`"caf\195\169"`, "café"},
		{`plain text`, "plain text"},
		{`"unterminated`, `"unterminated`},
		{`""`, ""},
	} {
		if got := Text(tc.in); got != tc.want {
			t.Errorf("Text(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// Route 53 reads escapes as three octal digits: ä (UTF-8 0xC3 0xA4) is
// \303\244, where package dns and zone files write \195\164.
func TestOctal(t *testing.T) {
	for _, text := range texts {
		q := QuoteOctal(text)
		strs, err := StringsOctal(q)
		if err != nil || strings.Join(strs, "") != text {
			t.Errorf("StringsOctal(QuoteOctal(%q)) = %q, %v, want it back", text, strs, err)
		}
		for _, s := range strs {
			if len(s) > MaxString {
				t.Errorf("QuoteOctal(%q): got a string of %d octets, want at most %d", text, len(s), MaxString)
			}
		}
	}
	for _, tc := range []struct{ text, quoted string }{
		{"exämple", `"ex\303\244mple"`},
		{"tab\there", `"tab\011here"`},
		{`say "hi" \o/`, `"say \"hi\" \\o/"`},
		{"del\x7f", `"del\177"`},
	} {
		if got := QuoteOctal(tc.text); got != tc.quoted {
			t.Errorf("QuoteOctal(%q) = %s, want %s", tc.text, got, tc.quoted)
		}
		if got := TextOctal(tc.quoted); got != tc.text {
			t.Errorf("TextOctal(%s) = %q, want %q", tc.quoted, got, tc.text)
		}
	}
	for _, tc := range []struct{ in, want string }{
		{`"a" "b"`, "ab"},
		{`plain text`, "plain text"},             // not quoted: as returned
		{`"ex\195\164mple"`, `"ex\195\164mple"`}, // decimal: no Route 53 value
		{`"\400"`, `"\400"`},                     // not an octet
		{`"unterminated`, `"unterminated`},
		{`""`, ""},
	} {
		if got := TextOctal(tc.in); got != tc.want {
			t.Errorf("TextOctal(%s) = %q, want %q", tc.in, got, tc.want)
		}
	}
	for _, bad := range []string{`"ex\195\164mple"`, `"a\`, `"open`, `"\9"`} {
		if got, err := StringsOctal(bad); err == nil {
			t.Errorf("StringsOctal(%s) = %q, want an error", bad, got)
		}
	}
}
