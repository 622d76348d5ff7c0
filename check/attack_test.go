//go:build failing

package check

import "testing"

// A DNS check's Name is sent as written: "bücher.example" goes out as raw
// UTF-8 octets, which no zone holds (its name is xn--bcher-kva.example),
// so the check fails forever while Validate said nothing. Query types
// that UDP cannot carry (AXFR, IXFR) fail every check too. Validate must
// refuse both (or the check convert the name to its A-label).
func TestDNSValidateRefusesNamesAndTypesNoQueryCanAnswer(t *testing.T) {
	for _, c := range []*DNS{
		{Name: "bücher.example"},
		{Name: "www.bücher.example."},
		{Name: "example.com", Type: "AXFR"},
		{Name: "example.com", Type: "IXFR"},
	} {
		if err := c.Validate(); err == nil {
			t.Errorf("DNS{Name: %q, Type: %q}.Validate(): got nil, want an error", c.Name, c.Type)
		}
	}
}
