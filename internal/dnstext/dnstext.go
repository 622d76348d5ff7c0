// Package dnstext converts TXT record text to and from the zone-file form
// that DNS APIs take and return: one or more quoted character-strings of
// at most 255 bytes, with \" \\ and \DDD escapes (RFC 1035, section 5.1).
package dnstext

import (
	"strconv"
	"strings"
)

// Quote returns text as quoted character-strings of at most 255 bytes
// each, separated by spaces, with " and \ escaped and bytes outside
// printable ASCII written as \DDD.
func Quote(text string) string {
	var b strings.Builder
	for first := true; first || text != ""; first = false {
		n := min(len(text), 255)
		if !first {
			b.WriteByte(' ')
		}
		b.WriteByte('"')
		for i := 0; i < n; i++ {
			switch c := text[i]; {
			case c == '"' || c == '\\':
				b.WriteByte('\\')
				b.WriteByte(c)
			case c < ' ' || c > '~':
				b.WriteString(`\` + strconv.Itoa(int(c)/100) + strconv.Itoa(int(c)/10%10) + strconv.Itoa(int(c)%10))
			default:
				b.WriteByte(c)
			}
		}
		b.WriteByte('"')
		text = text[n:]
	}
	return b.String()
}

// Unquote returns the text of s, one or more quoted character-strings,
// joined. A string that is not in that form is returned as is.
func Unquote(s string) string {
	if !strings.HasPrefix(s, `"`) {
		return s
	}
	var b strings.Builder
	for rest := strings.TrimSpace(s); rest != ""; rest = strings.TrimSpace(rest) {
		if rest[0] != '"' {
			return s
		}
		i := 1
		for ; i < len(rest) && rest[i] != '"'; i++ {
			if rest[i] != '\\' || i+1 >= len(rest) {
				b.WriteByte(rest[i])
				continue
			}
			if i+3 < len(rest) && digits(rest[i+1:i+4]) { // \DDD
				n, _ := strconv.Atoi(rest[i+1 : i+4])
				b.WriteByte(byte(n))
				i += 3
				continue
			}
			i++
			b.WriteByte(rest[i])
		}
		if i >= len(rest) {
			return s // unterminated
		}
		rest = rest[i+1:]
	}
	return b.String()
}

func digits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
