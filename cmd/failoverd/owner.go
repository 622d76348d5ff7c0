package main

import (
	"slices"

	"github.com/dnsfailover/failover/provider/owner"
)

// applyOwner checks the owner: setting and, when it is set, wraps every
// provider of every zone with owner records for it (provider/owner), dry
// runs included (a dry run only reads through the wrapper). Providers
// that decoding refused are left for the library to report.
func (d *decoder) applyOwner(fc *fileConfig) {
	if fc.Owner == "" {
		return
	}
	for zi := range fc.Zones {
		z := &fc.Zones[zi]
		z.Providers = slices.Clone(z.Providers)
		for pi, p := range z.Providers {
			if p == nil {
				continue
			}
			w, err := owner.Wrap(p, fc.Owner)
			if err != nil {
				d.failAt("Owner", err.Error())
				return
			}
			z.Providers[pi] = w
		}
	}
}
