package main

import (
	"crypto/sha256"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/dnsfailover/failover"
	"go.yaml.in/yaml/v3"
)

// A reload keeps the health of every record whose configuration did not
// change. A record's configuration is its own entry in the file, its
// zone's providers, the default policy, the default check when it names
// none of its own, and the named checks it uses (directly, through the
// default check, or through other named checks): editing a named check
// that a record does not use leaves the record alone. Each part is
// fingerprinted once, as a digest, so that fingerprinting a file of many
// records and checks takes time linear in its size.

// recordKey identifies a record across two versions of the file.
type recordKey struct{ zone, name, typ string }

// unchanged reports, for a record, whether everything that configures it
// is the same in before and after.
func unchanged(before, after *loaded) func(failover.RecordID) bool {
	return func(id failover.RecordID) bool {
		k := recordKey{strings.ToLower(id.Zone), strings.ToLower(id.Name), strings.ToUpper(id.Type)}
		old, ok := before.records[k]
		return ok && old == after.records[k]
	}
}

// fingerprint is a digest of n's content, without positions and
// comments; of nil, a fixed value.
func fingerprint(n *yaml.Node) string {
	h := sha256.New()
	var buf []byte
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		buf = strconv.AppendInt(buf[:0], int64(n.Kind), 10)
		buf = append(buf, n.Tag...)
		buf = strconv.AppendQuote(buf, n.Value)
		h.Write(append(buf, '('))
		for _, c := range n.Content {
			walk(c)
		}
		h.Write([]byte{')'})
	}
	if n != nil {
		walk(n)
	}
	return string(h.Sum(nil))
}

// digest combines fingerprints, in order, into one.
func digest(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		fmt.Fprintf(h, "%d:%s", len(p), p)
	}
	return string(h.Sum(nil))
}

// used is a digest of the named checks used since d.uses was last
// emptied, in any order and each once, and empties it.
func (d *decoder) used() string {
	slices.Sort(d.uses)
	fp := digest(slices.Compact(d.uses)...)
	d.uses = nil
	return fp
}
