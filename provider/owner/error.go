package owner

import (
	"fmt"
	"strings"

	"github.com/dnsfailover/failover"

	"github.com/libdns/libdns"
)

// ForeignError is the error of a write refused because the RRset is not
// this wrapper's to write: its owner record names another owner, or holds
// something that is not an owner record of this package's format (see
// Value). Nothing of that RRset was sent to the provider. Find it with
// errors.As; a call refusing several RRsets returns them joined. It
// matches failover.ErrRRsetRefused, so that a Manager quarantines the
// RRset at once.
type ForeignError struct {
	Zone string // FQDN with trailing dot
	Name string // relative name of the RRset, "@" for the apex
	Type string // type of the RRset, such as "A"
	// Owner is this wrapper's owner id.
	Owner string
	// Other is the owner id the owner record names; empty when it names
	// none (see Problem).
	Other string
	// Problem says why the owner record names no owner, such as a value
	// of another format or two owners in one RRset; empty when Other is set.
	Problem string
}

// Is reports whether target is failover.ErrRRsetRefused.
func (e *ForeignError) Is(target error) bool { return target == failover.ErrRRsetRefused }

func (e *ForeignError) Error() string {
	rrset := fmt.Sprintf("%s %s", libdns.AbsoluteName(e.Name, e.Zone), e.Type)
	if e.Other != "" {
		return fmt.Sprintf("owner: zone %s: %s is owned by %q, not by %q: not written", e.Zone, rrset, e.Other, e.Owner)
	}
	return fmt.Sprintf("owner: zone %s: %s is not owned by %q: its owner record %s: %s: not written",
		e.Zone, rrset, e.Owner, libdns.AbsoluteName(ownerName(key{strings.ToLower(e.Name), e.Type}), e.Zone), e.Problem)
}
