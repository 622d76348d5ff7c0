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
