// Package dnstxt converts TXT values between raw text (what libdns.TXT
// holds) and the forms DNS software keeps them in: the escaped
// character-strings of package dns, and the quoted presentation format of
// zone files and the PowerDNS API.
package dnstxt

import (
	"errors"
	"fmt"
	"strings"

	"github.com/miekg/dns"
)

// MaxString is the most octets one TXT character-string holds.
const MaxString = 255

// Strings splits raw text into character-strings of at most MaxString
// octets, each escaped as package dns holds them in dns.TXT.Txt. Empty text
// is one empty string.
func Strings(text string) []string {
	out := []string{}
	for len(text) > MaxString {
		out = append(out, escape(text[:MaxString]))
		text = text[MaxString:]
	}
	return append(out, escape(text))
}

// Quote returns text in presentation format: its character-strings, each
// quoted, separated by spaces.
func Quote(text string) string {
	strs := Strings(text)
	for i, s := range strs {
		strs[i] = `"` + s + `"`
	}
	return strings.Join(strs, " ")
}

// Unquote returns the raw text of a TXT value in presentation format
// (quoted or bare character-strings), joined without separators.
func Unquote(value string) (string, error) {
	if strings.ContainsAny(value, "\n\r") {
		return "", fmt.Errorf("TXT value %q contains a line break", value)
	}
	rr, err := dns.NewRR(". 0 IN TXT " + value)
	if err != nil {
		return "", fmt.Errorf("TXT value %q: %w", value, err)
	}
	if rr == nil {
		return "", nil
	}
	return Unescape(strings.Join(rr.(*dns.TXT).Txt, ""))
}

// escape escapes a quote, a backslash and every octet outside printable
// ASCII.
func escape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < ' ' || c > '~':
			fmt.Fprintf(&b, "\\%03d", c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// Unescape undoes the escapes package dns puts in a TXT character-string
// read from the wire: \X for X, \DDD for the octet DDD.
func Unescape(s string) (string, error) {
	if !strings.Contains(s, `\`) {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' {
			b.WriteByte(s[i])
			continue
		}
		if i+3 < len(s) && isDigit(s[i+1]) && isDigit(s[i+2]) && isDigit(s[i+3]) {
			n := int(s[i+1]-'0')*100 + int(s[i+2]-'0')*10 + int(s[i+3]-'0')
			if n > 255 {
				return "", fmt.Errorf("TXT escape \\%s is not an octet", s[i+1:i+4])
			}
			b.WriteByte(byte(n))
			i += 3
			continue
		}
		if i+1 == len(s) {
			return "", errors.New("TXT string ends in a lone backslash")
		}
		b.WriteByte(s[i+1])
		i++
	}
	return b.String(), nil
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// Text is Unquote for values that APIs return quoted when all is well:
// the text of a quoted TXT value, or value itself when it does not parse
// as one (an API that returned the text raw).
func Text(value string) string {
	if !strings.HasPrefix(strings.TrimSpace(value), `"`) {
		return value
	}
	text, err := Unquote(value)
	if err != nil {
		return value
	}
	return text
}
