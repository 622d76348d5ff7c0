package route53fake

import (
	"strings"
	"testing"
)

func TestWhatTheAPIRefuses(t *testing.T) {
	simple := RecordSet{Name: "www.example.com.", Type: "A", TTL: 60, Values: []string{"192.0.2.1"}}
	weighted := RecordSet{Name: "www.example.com.", Type: "A", SetIdentifier: "blue", TTL: 60, Values: []string{"192.0.2.2"}}
	cname := RecordSet{Name: "www.example.com.", Type: "CNAME", TTL: 60, Values: []string{"t.example.net."}}
	alias := RecordSet{Name: "www.example.com.", Type: "A", Alias: &AliasTarget{DNSName: "lb.example.net."}}
	for _, tc := range []struct {
		name   string
		held   []RecordSet
		action string
		set    RecordSet
		refuse string // part of the message; "" when accepted
	}{
		{"simple beside routing sets", []RecordSet{weighted}, "UPSERT", simple, "different routing policy"},
		{"routing set beside a simple one", []RecordSet{simple}, "UPSERT", weighted, "different routing policy"},
		{"CNAME beside an A", []RecordSet{simple}, "UPSERT", cname, "CNAME"},
		{"A beside a CNAME", []RecordSet{cname}, "CREATE", simple, "CNAME"},
		{"CREATE over an existing set", []RecordSet{simple}, "CREATE", simple, "already exists"},
		{"DELETE with other values", []RecordSet{simple}, "DELETE", RecordSet{Name: simple.Name, Type: "A", TTL: 60, Values: []string{"192.0.2.9"}}, "do not match"},
		{"DELETE with another TTL", []RecordSet{simple}, "DELETE", RecordSet{Name: simple.Name, Type: "A", TTL: 300, Values: simple.Values}, "do not match"},
		{"UPSERT of a simple set over an alias", []RecordSet{alias}, "UPSERT", simple, ""},
		{"TXT with a decimal escape", nil, "UPSERT", RecordSet{Name: "t.example.com.", Type: "TXT", TTL: 60, Values: []string{`"ex\195\164mple"`}}, "InvalidCharacterString"},
		{"TXT with an octet outside ASCII", nil, "UPSERT", RecordSet{Name: "t.example.com.", Type: "TXT", TTL: 60, Values: []string{`"exämple"`}}, "InvalidCharacterString"},
		{"TXT with octal escapes", nil, "UPSERT", RecordSet{Name: "t.example.com.", Type: "TXT", TTL: 60, Values: []string{`"ex\303\244mple" "more"`}}, ""},
		{"a second weighted set", []RecordSet{weighted}, "UPSERT", RecordSet{Name: weighted.Name, Type: "A", SetIdentifier: "green", TTL: 60, Values: []string{"192.0.2.3"}}, ""},
	} {
		sets := map[key]RecordSet{}
		for _, h := range tc.held {
			sets[keyOf(h)] = h
		}
		got := apply(sets, tc.action, tc.set)
		if tc.refuse == "" && got != "" || tc.refuse != "" && !strings.Contains(got, tc.refuse) {
			t.Errorf("%s: got %q, want %q", tc.name, got, tc.refuse)
		}
	}
}

func TestNamesEscaped(t *testing.T) {
	for _, tc := range []struct{ name, listed string }{
		{"*.example.com.", `\052.example.com.`},
		{"a_b-c.example.com.", "a_b-c.example.com."},
		{"a@b.example.com.", `a\100b.example.com.`},
	} {
		if got := escape(tc.name); got != tc.listed {
			t.Errorf("escape(%q): got %q, want %q", tc.name, got, tc.listed)
		}
		if got := unescape(tc.listed); got != tc.name {
			t.Errorf("unescape(%q): got %q, want %q", tc.listed, got, tc.name)
		}
	}
}
