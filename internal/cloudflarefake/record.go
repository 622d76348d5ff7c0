package cloudflarefake

import (
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Record is a DNS record as Cloudflare holds and returns it: Name is fully
// qualified, lower case, without a trailing dot; TTL 1 means automatic.
type Record struct {
	ID         string         `json:"id"`
	ZoneID     string         `json:"zone_id"`
	Type       string         `json:"type"`
	Name       string         `json:"name"`
	Content    string         `json:"content"`
	TTL        int            `json:"ttl"`
	Proxied    bool           `json:"proxied"`
	Proxiable  bool           `json:"proxiable"`
	Priority   *uint16        `json:"priority,omitempty"`
	Data       map[string]any `json:"data,omitempty"`
	Comment    *string        `json:"comment"`
	Tags       []string       `json:"tags"`
	Settings   map[string]any `json:"settings"`
	CreatedOn  string         `json:"created_on"`
	ModifiedOn string         `json:"modified_on"`
}

func (r Record) clone() Record {
	r.Tags = slices.Clone(r.Tags)
	r.Data = maps.Clone(r.Data)
	r.Settings = maps.Clone(r.Settings)
	if r.Tags == nil {
		r.Tags = []string{}
	}
	if r.Settings == nil {
		r.Settings = map[string]any{}
	}
	return r
}

// input is a record in a request body: a field absent from the JSON is
// nil, which a PATCH keeps and a POST or PUT resets.
type input struct {
	ID       string         `json:"id"`
	Type     *string        `json:"type"`
	Name     *string        `json:"name"`
	Content  *string        `json:"content"`
	TTL      *int           `json:"ttl"`
	Proxied  *bool          `json:"proxied"`
	Priority *uint16        `json:"priority"`
	Data     map[string]any `json:"data"`
	Comment  *string        `json:"comment"`
	Tags     *[]string      `json:"tags"`
	Settings map[string]any `json:"settings"`
}

// build applies in to base (a PATCH when !whole; a POST or PUT when
// whole: what in does not give is reset) and checks the result.
func (s *Server) build(base Record, in input, whole bool) (Record, *apiError) {
	r := base
	if whole {
		r = Record{ID: base.ID, ZoneID: base.ZoneID, CreatedOn: base.CreatedOn}
	}
	if in.Type != nil {
		r.Type = strings.ToUpper(*in.Type)
	}
	if in.Name != nil {
		r.Name = fqdn(*in.Name, s.zoneName(r.ZoneID))
	}
	if in.Content != nil {
		r.Content = *in.Content
	}
	if in.TTL != nil {
		r.TTL = *in.TTL
	}
	if in.Proxied != nil {
		r.Proxied = *in.Proxied
	}
	if in.Priority != nil {
		p := *in.Priority
		r.Priority = &p
	}
	if in.Data != nil {
		r.Data = maps.Clone(in.Data)
	}
	if in.Comment != nil {
		c := *in.Comment
		r.Comment = &c
	}
	if in.Tags != nil {
		r.Tags = slices.Clone(*in.Tags)
	}
	if in.Settings != nil {
		r.Settings = maps.Clone(in.Settings)
	}
	if r.Type == "" || r.Name == "" {
		return r, &apiError{Code: 9207, Message: "Request body is invalid: type and name are required."}
	}
	if e := s.normalize(&r); e != nil {
		return r, e
	}
	r.ModifiedOn = time.Now().UTC().Format(time.RFC3339)
	return r, nil
}

func (s *Server) zoneName(id string) string {
	for z, zid := range s.zones {
		if zid == id {
			return z
		}
	}
	return ""
}

// normalize applies Cloudflare's rules to a record about to be stored:
// content derived from data, TXT quoted, TTL 1 for proxied records, and
// the checks that refuse it.
func (s *Server) normalize(r *Record) *apiError {
	r.Proxiable = r.Type == "A" || r.Type == "AAAA" || r.Type == "CNAME"
	if r.Proxied && !r.Proxiable {
		return &apiError{Code: 9004, Message: "This record type cannot be proxied."}
	}
	if r.Tags == nil {
		r.Tags = []string{}
	}
	if r.Settings == nil {
		r.Settings = map[string]any{}
	}
	switch r.Type {
	case "A", "AAAA":
		ip, err := netip.ParseAddr(r.Content)
		if err != nil || ip.Is4() != (r.Type == "A") || ip.Zone() != "" {
			return &apiError{Code: 9102, Message: fmt.Sprintf("Content for %s record is invalid.", r.Type)}
		}
		r.Content = ip.String()
	case "CNAME", "NS":
		if !hostname(r.Content) {
			return &apiError{Code: 9102, Message: fmt.Sprintf("Content for %s record is invalid: want a host name.", r.Type)}
		}
		r.Content = strings.TrimSuffix(r.Content, ".")
	case "MX":
		if r.Priority == nil {
			return &apiError{Code: 9100, Message: "priority is required for MX records."}
		}
		if !hostname(r.Content) {
			return &apiError{Code: 9102, Message: "Content for MX record is invalid: want a host name (the preference goes in priority)."}
		}
		r.Content = strings.TrimSuffix(r.Content, ".")
	case "TXT":
		if !strings.HasPrefix(r.Content, `"`) {
			r.Content = strconv.Quote(r.Content)
		}
	case "SRV", "CAA", "HTTPS", "SVCB":
		if r.Data == nil {
			return &apiError{Code: 9101, Message: fmt.Sprintf("data is required for %s records.", r.Type)}
		}
		content, e := fromData(r)
		if e != nil {
			return e
		}
		r.Content = content
	}
	if r.Proxied {
		r.TTL = 1 // proxied records are always automatic
	}
	if r.TTL == 0 {
		r.TTL = 1
	}
	if r.TTL != 1 && (r.TTL < 60 || r.TTL > 86400) {
		return &apiError{Code: 9021, Message: "Invalid TTL. Must be between 60 and 86400 seconds, or 1 for Automatic."}
	}
	for _, other := range s.records {
		if other.ID == r.ID || other.ZoneID != r.ZoneID || other.Name != r.Name {
			continue
		}
		if other.Type == "CNAME" || r.Type == "CNAME" {
			return &apiError{Code: 81053, Message: "An A, AAAA, or CNAME record with that host already exists."}
		}
		if other.Type == r.Type && other.Content == r.Content && samePriority(other.Priority, r.Priority) {
			return &apiError{Code: 81058, Message: "An identical record already exists."}
		}
	}
	return nil
}

func samePriority(a, b *uint16) bool {
	return a == nil && b == nil || a != nil && b != nil && *a == *b
}

func hostname(s string) bool {
	s = strings.TrimSuffix(s, ".")
	return s != "" && !strings.ContainsAny(s, " \t\"")
}

// fromData checks a structured record's data and returns the content
// Cloudflare derives from it.
func fromData(r *Record) (string, *apiError) {
	num := func(k string, most float64) (int, bool) {
		f, ok := r.Data[k].(float64)
		if !ok {
			if i, isInt := r.Data[k].(int); isInt {
				f, ok = float64(i), true
			}
		}
		return int(f), ok && f >= 0 && f <= most && f == float64(int(f))
	}
	str := func(k string) (string, bool) {
		v, ok := r.Data[k].(string)
		return v, ok
	}
	bad := &apiError{Code: 9102, Message: fmt.Sprintf("data for %s record is invalid.", r.Type)}
	switch r.Type {
	case "SRV":
		pri, ok1 := num("priority", 65535)
		weight, ok2 := num("weight", 65535)
		port, ok3 := num("port", 65535)
		target, ok4 := str("target")
		if !ok1 || !ok2 || !ok3 || !ok4 || !hostname(target) {
			return "", bad
		}
		p := uint16(pri)
		r.Priority = &p
		return fmt.Sprintf("%d %d %s", weight, port, strings.TrimSuffix(target, ".")), nil
	case "CAA":
		flags, ok1 := num("flags", 255)
		tag, ok2 := str("tag")
		value, ok3 := str("value")
		if !ok1 || !ok2 || !ok3 || tag == "" {
			return "", bad
		}
		return fmt.Sprintf("%d %s %s", flags, tag, strconv.Quote(value)), nil
	default: // HTTPS, SVCB
		pri, ok1 := num("priority", 65535)
		target, ok2 := str("target")
		value, ok3 := str("value")
		if !ok1 || !ok2 || !ok3 || target == "" {
			return "", bad
		}
		return strings.TrimSpace(fmt.Sprintf("%d %s %s", pri, target, value)), nil
	}
}
