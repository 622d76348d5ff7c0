package check

import (
	"fmt"
	"strconv"
	"strings"
)

// StatusRange is an inclusive range of HTTP status codes.
type StatusRange struct{ Min, Max int }

// StatusCodes is a set of HTTP status codes, as ranges. A nil StatusCodes
// means the default, 200–399.
type StatusCodes []StatusRange

var defaultStatusCodes = StatusCodes{{200, 399}}

// ParseStatusCodes parses a comma-separated list of codes and ranges, such
// as "200-299,304". Codes must be 100–599.
func ParseStatusCodes(s string) (StatusCodes, error) {
	var out StatusCodes
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		lo, hi, isRange := strings.Cut(part, "-")
		min, err := parseStatus(lo)
		if err != nil {
			return nil, fmt.Errorf("status codes %q: %w", s, err)
		}
		max := min
		if isRange {
			if max, err = parseStatus(hi); err != nil {
				return nil, fmt.Errorf("status codes %q: %w", s, err)
			}
			if max < min {
				return nil, fmt.Errorf("status codes %q: range %q ends before it starts", s, part)
			}
		}
		out = append(out, StatusRange{min, max})
	}
	return out, nil
}

func parseStatus(s string) (int, error) {
	s = strings.TrimSpace(s)
	n, err := strconv.Atoi(s)
	if err != nil || n < 100 || n > 599 {
		return 0, fmt.Errorf("%q is not an HTTP status code (100-599)", s)
	}
	return n, nil
}

// UnmarshalText parses text as ParseStatusCodes does, so that a
// configuration file can give the codes as "200-299,304".
func (c *StatusCodes) UnmarshalText(text []byte) error {
	codes, err := ParseStatusCodes(string(text))
	if err != nil {
		return err
	}
	*c = codes
	return nil
}

// Contains reports whether code is in c (or, for a nil c, in 200–399).
func (c StatusCodes) Contains(code int) bool {
	if c == nil {
		c = defaultStatusCodes
	}
	for _, r := range c {
		if code >= r.Min && code <= r.Max {
			return true
		}
	}
	return false
}

// String formats c as ParseStatusCodes reads it.
func (c StatusCodes) String() string {
	if c == nil {
		c = defaultStatusCodes
	}
	parts := make([]string, len(c))
	for i, r := range c {
		parts[i] = strconv.Itoa(r.Min)
		if r.Max != r.Min {
			parts[i] += "-" + strconv.Itoa(r.Max)
		}
	}
	return strings.Join(parts, ",")
}
