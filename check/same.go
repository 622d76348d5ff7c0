package check

import "reflect"

// sameSettings reports whether a and b, non-nil pointers to structs of one
// type, hold deeply equal exported fields: their settings. Unexported
// fields (a sync.Once, the client it builds, a cache) are state, not
// settings, and are never looked at. A func in a setting is equal only to
// nil, so a check holding one is shared only as one pointer; values
// behind pointers (a regexp, a certificate pool) are compared deeply,
// which may say "different" for equal ones built apart, never the reverse.
func sameSettings(a, b any) bool {
	va, vb := reflect.ValueOf(a), reflect.ValueOf(b)
	if va.Type() != vb.Type() || va.Kind() != reflect.Pointer || va.IsNil() || vb.IsNil() {
		return false
	}
	if va.Pointer() == vb.Pointer() {
		return true
	}
	va, vb = va.Elem(), vb.Elem()
	for i := range va.NumField() {
		if va.Type().Field(i).IsExported() && !reflect.DeepEqual(va.Field(i).Interface(), vb.Field(i).Interface()) {
			return false
		}
	}
	return true
}

// SameCheck reports whether other is an *HTTP with the same settings (its
// exported fields), so that the Manager checks each target once for both.
func (c *HTTP) SameCheck(other any) bool { return sameSettings(c, other) }

// SameCheck reports whether other is a *TCP with the same settings (its
// exported fields), so that the Manager checks each target once for both.
func (c *TCP) SameCheck(other any) bool { return sameSettings(c, other) }

// SameCheck reports whether other is a *TLS with the same settings (its
// exported fields), so that the Manager checks each target once for both.
func (c *TLS) SameCheck(other any) bool { return sameSettings(c, other) }

// SameCheck reports whether other is a *DNS with the same settings (its
// exported fields), so that the Manager checks each target once for both.
func (c *DNS) SameCheck(other any) bool { return sameSettings(c, other) }

// SameCheck reports whether other is an *ICMP with the same settings (its
// exported fields), so that the Manager checks each target once for both.
func (c *ICMP) SameCheck(other any) bool { return sameSettings(c, other) }

// SameCheck reports whether other is an *Exec with the same settings (its
// exported fields), so that the Manager checks each target once for both.
func (c *Exec) SameCheck(other any) bool { return sameSettings(c, other) }
