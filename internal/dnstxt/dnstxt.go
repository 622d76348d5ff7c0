// Package dnstxt converts TXT values between raw text (what libdns.TXT
// holds) and the forms DNS software keeps them in: the escaped
// character-strings of package dns, the quoted presentation format of
// zone files and the PowerDNS API (escapes of three decimal digits,
// \195\164 for the UTF-8 of ä), and Route 53's (three octal digits,
// \303\244: Route 53 Developer Guide, "Supported DNS record types", TXT).
package dnstxt

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/miekg/dns"
)

// MaxString is the most octets one TXT character-string holds.
const MaxString = 255

// Strings splits raw text into character-strings of at most MaxString
// octets, each escaped as package dns holds them in dns.TXT.Txt. Empty text
// is one empty string.
func Strings(text string) []string {
	return split(text, decimal)
}

// split splits raw text into character-strings of at most MaxString
// octets, each escaped with escapes of base.
func split(text string, base int) []string {
	out := []string{}
	for len(text) > MaxString {
		out = append(out, escape(text[:MaxString], base))
		text = text[MaxString:]
	}
	return append(out, escape(text, base))
}

// Quote returns text in presentation format: its character-strings, each
// quoted, separated by spaces.
func Quote(text string) string {
	return quote(Strings(text))
}

// QuoteOctal is Quote with octal escapes, as Route 53 takes TXT values:
// "ex\303\244mple" for exämple.
func QuoteOctal(text string) string {
	return quote(split(text, octal))
}

func quote(strs []string) string {
	for i, s := range strs {
		strs[i] = `"` + s + `"`
	}
	return strings.Join(strs, " ")
}

// The bases of the escapes \DDD.
const (
	decimal = 10
	octal   = 8
)

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
// ASCII, as three digits of base.
func escape(s string, base int) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < ' ' || c > '~':
			b.WriteByte('\\')
			digits := strconv.FormatUint(uint64(c), base)
			b.WriteString(strings.Repeat("0", 3-len(digits)) + digits)
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

// StringsOctal returns the raw character-strings of a TXT value in Route
// 53's presentation format: quoted (or bare) strings separated by spaces,
// with \ooo escapes of three octal digits and \X for X. A backslash before
// a digit that does not start three octal digits of an octet (a decimal
// escape such as \195) is an error, as is an unterminated quote.
func StringsOctal(value string) ([]string, error) {
	var out []string
	for i := 0; ; {
		for i < len(value) && (value[i] == ' ' || value[i] == '\t') {
			i++
		}
		if i == len(value) {
			return out, nil
		}
		quoted := value[i] == '"'
		if quoted {
			i++
		}
		var b strings.Builder
		for {
			if i == len(value) {
				if quoted {
					return nil, fmt.Errorf("TXT value %q: a quote is not closed", value)
				}
				break
			}
			c := value[i]
			if quoted && c == '"' {
				i++
				break
			}
			if !quoted && (c == ' ' || c == '\t') {
				break
			}
			if c != '\\' {
				b.WriteByte(c)
				i++
				continue
			}
			if i+3 < len(value) && '0' <= value[i+1] && value[i+1] <= '3' && isOctal(value[i+2]) && isOctal(value[i+3]) {
				b.WriteByte((value[i+1]-'0')<<6 | (value[i+2]-'0')<<3 | (value[i+3] - '0'))
				i += 4
				continue
			}
			if i+1 == len(value) {
				return nil, fmt.Errorf("TXT value %q ends in a lone backslash", value)
			}
			if isDigit(value[i+1]) {
				return nil, fmt.Errorf("TXT value %q: escape \\%s is not three octal digits of an octet", value, value[i+1:min(i+4, len(value))])
			}
			b.WriteByte(value[i+1])
			i += 2
		}
		out = append(out, b.String())
	}
}

func isOctal(c byte) bool { return '0' <= c && c <= '7' }

// TextOctal is Text for Route 53's octal escapes: the text of a quoted TXT
// value, or value itself when it is not quoted or does not parse.
func TextOctal(value string) string {
	if !strings.HasPrefix(strings.TrimSpace(value), `"`) {
		return value
	}
	strs, err := StringsOctal(value)
	if err != nil {
		return value
	}
	return strings.Join(strs, "")
}
