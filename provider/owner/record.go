package owner

import (
	"fmt"
	"strings"

	"github.com/dnsfailover/failover/internal/dnsname"
)

// Label is the start of the first label of every owner record's name: the
// owner record of the RRset (name, type) is a TXT record named
//
//	_failover-owner-<type>.<name>            (apex: _failover-owner-<type>)
//	_failover-owner-<type>-wildcard.<parent> for the wildcard *.<parent>
//	                                         (apex wildcard: _failover-owner-<type>-wildcard)
//
// with <type> in lower case, such as _failover-owner-a.www for "www A".
// It is a name of its own below the managed name, never the managed name
// itself, because a TXT record cannot stand beside a CNAME; one name per
// type, so that two deployments may own A and AAAA at one name without
// sharing (and overwriting) one TXT RRset. A wildcard's "*" cannot be
// followed by a label of ours ("_failover-owner-a.*" is a literal name
// under the wildcard, which some providers refuse), so it is spelled out.
// Names whose first label starts with Label are reserved: the wrapper
// refuses to write records there.
const Label = "_failover-owner-"

// wildcardSuffix marks the owner record of a wildcard.
const wildcardSuffix = "-wildcard"

// Value is the format of an owner record's value: "failover-owner=<id>,type=<type>",
// such as "failover-owner=prod,type=A". Its type, upper case, repeats the
// name's so that the record reads on its own.
const Value = "failover-owner=%s,type=%s"

// key is one RRset of a zone: lower-case name relative to the zone ("@"
// for the apex), upper-case type.
type key struct {
	name, typ string
}

func (k key) String() string { return k.name + " " + k.typ }

// ownerName returns the name of k's owner record, relative to the zone.
func ownerName(k key) string {
	label := Label + strings.ToLower(k.typ)
	switch {
	case k.name == "@":
		return label
	case k.name == "*":
		return label + wildcardSuffix
	case strings.HasPrefix(k.name, "*."):
		return label + wildcardSuffix + "." + k.name[2:]
	}
	return label + "." + k.name
}

// ownedKey returns the RRset whose owner record is named name (relative,
// lower case), and whether name is an owner record's name.
func ownedKey(name string) (key, bool) {
	first, rest, _ := strings.Cut(name, ".")
	typ, ok := strings.CutPrefix(first, Label)
	if !ok {
		return key{}, false
	}
	typ, wildcard := strings.CutSuffix(typ, wildcardSuffix)
	if typ == "" || strings.Trim(typ, "abcdefghijklmnopqrstuvwxyz0123456789") != "" {
		return key{}, false
	}
	k := key{name: rest, typ: strings.ToUpper(typ)}
	switch {
	case wildcard && rest == "":
		k.name = "*"
	case wildcard:
		k.name = "*." + rest
	case rest == "":
		k.name = "@"
	}
	return k, true
}

// reserved reports whether name (relative, lower case) is at or below an
// owner record's name: the wrapper writes nothing there but owner records.
func reserved(name string) bool {
	for label := range strings.SplitSeq(name, ".") {
		if strings.HasPrefix(label, Label) {
			return true
		}
	}
	return false
}

// value returns the owner record value saying that id owns an RRset of
// type typ.
func value(id, typ string) string { return fmt.Sprintf(Value, id, typ) }

// parseValue returns the owner named by v, an owner record's value for an
// RRset of type typ, or an error saying why v is not one. Surrounding
// quotes are taken off once: some providers return TXT values quoted.
func parseValue(v, typ string) (string, error) {
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
		v = v[1 : len(v)-1]
	}
	rest, ok := strings.CutPrefix(v, "failover-owner=")
	id, t, ok2 := strings.Cut(rest, ",type=")
	switch {
	case !ok || !ok2:
		return "", fmt.Errorf("%q is not of the form %q", dnsname.Quote(v), fmt.Sprintf(Value, "<owner>", typ))
	case !strings.EqualFold(t, typ):
		return "", fmt.Errorf("%q is for type %q, not %s", dnsname.Quote(v), dnsname.Quote(t), typ)
	}
	if err := checkID(id); err != nil {
		return "", fmt.Errorf("%q: %w", dnsname.Quote(v), err)
	}
	return id, nil
}

// MaxIDLength is the longest owner id.
const MaxIDLength = 63

// checkID returns an error unless id is a valid owner id: 1 to
// MaxIDLength letters, digits, '-', '_' and '.'.
func checkID(id string) error {
	switch {
	case id == "":
		return fmt.Errorf("empty owner id")
	case len(id) > MaxIDLength:
		return fmt.Errorf("owner id %q is longer than %d characters", dnsname.Quote(id), MaxIDLength)
	}
	for _, c := range id {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.') {
			return fmt.Errorf("owner id %q has %q: only letters, digits, '-', '_' and '.' are allowed", dnsname.Quote(id), c)
		}
	}
	return nil
}
