package notify

import "fmt"

var formatNames = [...]string{Generic: "generic", Slack: "slack", Discord: "discord"}

// String returns "generic", "slack" or "discord".
func (f Format) String() string {
	if f < 0 || int(f) >= len(formatNames) {
		return fmt.Sprintf("Format(%d)", int(f))
	}
	return formatNames[f]
}

// MarshalText encodes f as its String form.
func (f Format) MarshalText() ([]byte, error) { return []byte(f.String()), nil }

// UnmarshalText decodes the String form ("generic", "slack", "discord");
// any other text is an error that lists them.
func (f *Format) UnmarshalText(b []byte) error {
	for i, n := range formatNames {
		if n == string(b) {
			*f = Format(i)
			return nil
		}
	}
	return fmt.Errorf("notify: unknown format %q; want generic, slack or discord", b)
}
