package check

import (
	"strings"
	"testing"
)

// A DNS check's Name is sent as written: "bücher.example" would go out as
// raw UTF-8 octets, which no zone holds (its name is
// xn--bcher-kva.example), so the check would fail forever. Query types
// that no health query can use (AXFR, IXFR, ANY, meta types) would fail
// every check too. Validate refuses both, naming the A-label to write.
func TestDNSValidateRefusesNamesAndTypesNoQueryCanAnswer(t *testing.T) {
	for _, tc := range []struct {
		c    *DNS
		want string // in the error; empty: valid
	}{
		{&DNS{Name: "bücher.example"}, `write its A-label "xn--bcher-kva.example"`},
		{&DNS{Name: "www.bücher.example."}, `write its A-label "www.xn--bcher-kva.example."`},
		{&DNS{Name: "xn--bcher-kva.example"}, ""},
		{&DNS{Name: "example.com", Type: "AXFR"}, "Type: AXFR: no health query"},
		{&DNS{Name: "example.com", Type: "ixfr"}, "Type: IXFR: no health query"},
		{&DNS{Name: "example.com", Type: "ANY"}, "Type: ANY: no health query"},
		{&DNS{Name: "example.com", Type: "OPT"}, "Type: OPT: no health query"},
		{&DNS{Name: "example.com", Type: "SOA"}, ""},
		{&DNS{Name: "example.com", Type: "CAA"}, ""},
	} {
		err := tc.c.Validate()
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("DNS{Name: %q, Type: %q}.Validate(): got %v, want nil", tc.c.Name, tc.c.Type, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("DNS{Name: %q, Type: %q}.Validate(): got %v, want an error containing %q", tc.c.Name, tc.c.Type, err, tc.want)
		}
	}
}
