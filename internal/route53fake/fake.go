// Package route53fake is a local fake of the Route 53 REST-XML API
// (version 2013-04-01), as far as DNS providers use it:
// ListHostedZonesByName, GetHostedZone, ListResourceRecordSets (paged),
// ChangeResourceRecordSets and GetChange. Point the AWS SDK at it with the
// standard AWS_ENDPOINT_URL_ROUTE_53 environment variable. It reproduces
// the behaviours that hurt a client that ignores them, each following the
// AWS Route 53 API Reference or Developer Guide page named beside it:
//
//   - Record sets are keyed by name, type and SetIdentifier
//     (ResourceRecordSet: "SetIdentifier: Resource record sets that have a
//     routing policy other than simple"): weighted, failover, latency and
//     geolocation sets share a name and type. A simple set beside routing
//     sets of the same name and type, or a routing set beside a simple
//     one, is refused (InvalidChangeBatch), whatever the action.
//   - Alias record sets have an AliasTarget and no TTL or ResourceRecords
//     (ResourceRecordSet: "AliasTarget"). An UPSERT of a simple set over an
//     alias replaces it, as the API does: the fake does not protect it.
//   - A CNAME is alone at its name (InvalidChangeBatch, "RRSet of type
//     CNAME ... conflicts with other records").
//   - One ChangeResourceRecordSets is applied all or nothing
//     (ChangeResourceRecordSets: "either makes all or none of the
//     changes"), within its quotas (Quotas, "Elements and characters in
//     ChangeResourceRecordSets requests"): at most 1,000 ResourceRecord
//     elements and 32,000 characters of Value elements, each counted twice
//     in an UPSERT; beyond them, InvalidChangeBatch and nothing applied.
//     CREATE fails on an existing set; DELETE needs the set exactly as held
//     (TTL, values or alias target).
//   - TXT (and SPF) values are quoted strings whose escapes are three
//     OCTAL digits ("Supported DNS record types", TXT: "you must specify
//     the characters by using escape codes in the format \three-digit
//     octal code"): a value holding an octet below 040 or above 176
//     unescaped, or an escape that is not three octal digits of an octet
//     (a decimal \195), is refused with InvalidChangeBatch. Values are
//     kept and listed as written.
//   - Names come back lower case, with * and every character other than
//     a-z, 0-9, hyphen and underscore escaped as \NNN octal
//     ("DNS domain name format": a wildcard lists as \052).
//   - Errors on demand (FailNext): Throttling ("Rate exceeded", the 5
//     requests per second per account quota) and PriorRequestNotComplete
//     (Route 53 still processing a prior change of the zone), both HTTP 400
//     as the API sends them (Common Errors; ChangeResourceRecordSets
//     errors).
//   - Private hosted zones may share a public zone's name
//     (AddPrivateZone); ListHostedZonesByName returns both.
//
// It counts requests so tests can tell what an operation costs.
package route53fake

import (
	"encoding/xml"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/dnsfailover/failover/internal/dnstxt"
)

const ns = "https://route53.amazonaws.com/doc/2013-04-01/"

// Quotas of one ChangeResourceRecordSets request.
const (
	MaxRecordsPerChange = 1000  // ResourceRecord elements, UPSERT counted twice
	MaxValueCharacters  = 32000 // characters of Value elements, UPSERT counted twice
)

// AliasTarget is where an alias record set points.
type AliasTarget struct {
	HostedZoneID         string `xml:"HostedZoneId"`
	DNSName              string `xml:"DNSName"`
	EvaluateTargetHealth bool   `xml:"EvaluateTargetHealth"`
}

// RecordSet is one resource record set. Name is fully qualified with a
// trailing dot; SetIdentifier and Weight (or Failover) mark a
// routing-policy set; Alias marks an alias set, which has no TTL or
// Values.
type RecordSet struct {
	Name          string
	Type          string
	SetIdentifier string
	Weight        *int64
	Failover      string
	TTL           int64
	Values        []string
	Alias         *AliasTarget
}

// wireSet is a RecordSet as the API encodes it.
type wireSet struct {
	Name          string       `xml:"Name"`
	Type          string       `xml:"Type"`
	SetIdentifier string       `xml:"SetIdentifier,omitempty"`
	Weight        *int64       `xml:"Weight,omitempty"`
	Failover      string       `xml:"Failover,omitempty"`
	TTL           *int64       `xml:"TTL,omitempty"`
	Records       []wireValue  `xml:"ResourceRecords>ResourceRecord,omitempty"`
	Alias         *AliasTarget `xml:"AliasTarget,omitempty"`
}

type wireValue struct {
	Value string `xml:"Value"`
}

func toWire(s RecordSet) wireSet {
	w := wireSet{Name: escape(s.Name), Type: s.Type, SetIdentifier: s.SetIdentifier, Weight: s.Weight, Failover: s.Failover, Alias: s.Alias}
	if s.Alias == nil {
		ttl := s.TTL
		w.TTL = &ttl
	}
	for _, v := range s.Values {
		w.Records = append(w.Records, wireValue{v})
	}
	return w
}

func fromWire(w wireSet) RecordSet {
	s := RecordSet{Name: strings.ToLower(unescape(w.Name)), Type: w.Type, SetIdentifier: w.SetIdentifier, Weight: w.Weight, Failover: w.Failover, Alias: w.Alias}
	if w.TTL != nil {
		s.TTL = *w.TTL
	}
	for _, v := range w.Records {
		s.Values = append(s.Values, v.Value)
	}
	return s
}

// key identifies a record set: name, type, SetIdentifier.
type key [3]string

func keyOf(s RecordSet) key { return key{s.Name, s.Type, s.SetIdentifier} }

type zone struct {
	name    string
	private bool
	sets    map[key]RecordSet
}

// Server is the fake. Create it with Start.
type Server struct {
	URL string

	srv *httptest.Server

	mu       sync.Mutex
	zones    map[string]*zone // by ID (without /hostedzone/)
	nzones   int
	changes  int
	requests map[string]int
	faults   []fault
	pageSize int
}

type fault struct {
	kind, code string
	left       int
}

// Start starts a fake holding the given public zones (FQDNs with trailing
// dots), each with its SOA and NS sets.
func Start(zones ...string) *Server {
	s := &Server{zones: map[string]*zone{}, requests: map[string]int{}, pageSize: 300}
	for _, z := range zones {
		s.addZone(z, false)
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.srv.URL
	return s
}

func (s *Server) addZone(name string, private bool) string {
	s.nzones++
	id := fmt.Sprintf("Z%04dFAKE", s.nzones)
	name = strings.ToLower(name)
	s.zones[id] = &zone{name: name, private: private, sets: map[key]RecordSet{
		{name, "SOA", ""}: {Name: name, Type: "SOA", TTL: 900, Values: []string{"ns-1.awsdns-00.com. awsdns-hostmaster.amazon.com. 1 7200 900 1209600 86400"}},
		{name, "NS", ""}:  {Name: name, Type: "NS", TTL: 172800, Values: []string{"ns-1.awsdns-00.com."}},
	}}
	return id
}

// AddPrivateZone adds a private hosted zone named name (which may be the
// name of a public one) and returns its ID.
func (s *Server) AddPrivateZone(name string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addZone(name, true)
}

// Close stops the fake.
func (s *Server) Close() { s.srv.Close() }

// ZoneID returns the hosted zone ID of the public zone named name.
func (s *Server) ZoneID(name string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, z := range s.zones {
		if z.name == name && !z.private {
			return id
		}
	}
	return ""
}

// SetPageSize sets how many record sets a list page holds at most.
func (s *Server) SetPageSize(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pageSize = n
}

// FailNext makes the next n requests of kind ("zones", "zone", "list",
// "change", "getchange"; "" for any) fail with the error code, such as
// "Throttling" or "PriorRequestNotComplete", and HTTP 400.
func (s *Server) FailNext(n int, kind, code string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, fault{kind: kind, code: code, left: n})
}

// Requests returns how many requests of a kind were served: "zones",
// "zone", "list", "change", "getchange"; "" counts all.
func (s *Server) Requests(kind string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if kind == "" {
		n := 0
		for _, c := range s.requests {
			n += c
		}
		return n
	}
	return s.requests[kind]
}

// ResetRequests sets the counts to zero.
func (s *Server) ResetRequests() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.requests)
}

// Put stores a record set directly in the zone with that ID, as the
// console would (no checks).
func (s *Server) Put(zoneID string, set RecordSet) {
	s.mu.Lock()
	defer s.mu.Unlock()
	set.Name = strings.ToLower(set.Name)
	s.zones[zoneID].sets[keyOf(set)] = set
}

// Sets returns the record sets of the zone with that ID other than SOA and
// NS, as "name type ttl value,value" lines, sorted; a routing set's name
// is followed by [SetIdentifier], an alias shows "ALIAS target".
func (s *Server) Sets(zoneID string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, set := range s.zones[zoneID].sets {
		if set.Type == "SOA" || set.Type == "NS" {
			continue
		}
		name := set.Name
		if set.SetIdentifier != "" {
			name += " [" + set.SetIdentifier + "]"
		}
		if set.Alias != nil {
			out = append(out, fmt.Sprintf("%s %s ALIAS %s", name, set.Type, set.Alias.DNSName))
			continue
		}
		v := slices.Clone(set.Values)
		slices.Sort(v)
		out = append(out, fmt.Sprintf("%s %s %d %s", name, set.Type, set.TTL, strings.Join(v, ",")))
	}
	slices.Sort(out)
	return out
}

func writeXML(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("X-Amzn-Requestid", "fake-request")
	w.WriteHeader(status)
	w.Write([]byte(xml.Header))
	xml.NewEncoder(w).Encode(v)
}

type errorResponse struct {
	XMLName   xml.Name `xml:"ErrorResponse"`
	Xmlns     string   `xml:"xmlns,attr"`
	Type      string   `xml:"Error>Type"`
	Code      string   `xml:"Error>Code"`
	Message   string   `xml:"Error>Message"`
	RequestID string   `xml:"RequestId"`
}

func fail(w http.ResponseWriter, status int, code, msg string) {
	writeXML(w, status, errorResponse{Xmlns: ns, Type: "Sender", Code: code, Message: msg, RequestID: "fake-request"})
}

// invalidBatch answers InvalidChangeBatch, whose messages come in a list.
func invalidBatch(w http.ResponseWriter, msgs ...string) {
	writeXML(w, http.StatusBadRequest, struct {
		XMLName  xml.Name `xml:"InvalidChangeBatch"`
		Xmlns    string   `xml:"xmlns,attr"`
		Messages []string `xml:"Messages>Message"`
	}{Xmlns: ns, Messages: msgs})
}

var faultMessages = map[string]string{
	"Throttling":              "Rate exceeded",
	"PriorRequestNotComplete": "The request was rejected because Route 53 was still processing a prior request.",
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	path := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/2013-04-01/"), "/")
	parts := strings.Split(path, "/")
	s.mu.Lock()
	defer s.mu.Unlock()
	kind := parts[0]
	switch {
	case len(parts) == 3 && parts[2] == "rrset" && r.Method == http.MethodGet:
		kind = "list"
	case len(parts) == 3 && parts[2] == "rrset":
		kind = "change"
	case len(parts) == 2 && parts[0] == "hostedzone":
		kind = "zone"
	case parts[0] == "change":
		kind = "getchange"
	case parts[0] == "hostedzonesbyname":
		kind = "zones"
	}
	s.requests[kind]++
	for i := range s.faults {
		if f := &s.faults[i]; f.left > 0 && (f.kind == "" || f.kind == kind) {
			f.left--
			fail(w, http.StatusBadRequest, f.code, faultMessages[f.code])
			return
		}
	}
	if !strings.Contains(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256") {
		fail(w, http.StatusForbidden, "MissingAuthenticationToken", "Missing Authentication Token")
		return
	}
	var z *zone
	if len(parts) >= 2 && parts[0] == "hostedzone" {
		if z = s.zones[parts[1]]; z == nil {
			fail(w, http.StatusNotFound, "NoSuchHostedZone", "No hosted zone found with ID: "+parts[1])
			return
		}
	}
	switch kind {
	case "zones":
		s.listZones(w, r)
	case "zone":
		writeXML(w, http.StatusOK, struct {
			XMLName    xml.Name   `xml:"GetHostedZoneResponse"`
			Xmlns      string     `xml:"xmlns,attr"`
			HostedZone hostedZone `xml:"HostedZone"`
		}{Xmlns: ns, HostedZone: s.hostedZone(parts[1])})
	case "list":
		s.listSets(w, r, z)
	case "change":
		s.change(w, r, z)
	case "getchange":
		writeXML(w, http.StatusOK, struct {
			XMLName    xml.Name   `xml:"GetChangeResponse"`
			Xmlns      string     `xml:"xmlns,attr"`
			ChangeInfo changeInfo `xml:"ChangeInfo"`
		}{Xmlns: ns, ChangeInfo: changeInfo{ID: "/change/" + parts[len(parts)-1], Status: "INSYNC", SubmittedAt: time.Now().UTC().Format(time.RFC3339)}})
	default:
		fail(w, http.StatusNotFound, "UnknownOperation", "no such operation: "+r.Method+" "+r.URL.Path)
	}
}

// changeInfo is the status of a change batch.
type changeInfo struct {
	ID          string `xml:"Id"`
	Status      string `xml:"Status"`
	SubmittedAt string `xml:"SubmittedAt"`
}

type hostedZone struct {
	ID              string `xml:"Id"`
	Name            string `xml:"Name"`
	CallerReference string `xml:"CallerReference"`
	PrivateZone     bool   `xml:"Config>PrivateZone"`
	Count           int    `xml:"ResourceRecordSetCount"`
}

func (s *Server) hostedZone(id string) hostedZone {
	z := s.zones[id]
	return hostedZone{ID: "/hostedzone/" + id, Name: z.name, CallerReference: "fake-" + id, PrivateZone: z.private, Count: len(z.sets)}
}

func (s *Server) listZones(w http.ResponseWriter, r *http.Request) {
	name := strings.ToLower(r.URL.Query().Get("dnsname"))
	var ids []string
	for id, z := range s.zones {
		if name == "" || z.name >= name {
			ids = append(ids, id)
		}
	}
	slices.SortFunc(ids, func(a, b string) int {
		return strings.Compare(s.zones[a].name+" "+a, s.zones[b].name+" "+b)
	})
	most, _ := strconv.Atoi(r.URL.Query().Get("maxitems"))
	if most > 0 && len(ids) > most {
		ids = ids[:most]
	}
	var zones []hostedZone
	for _, id := range ids {
		zones = append(zones, s.hostedZone(id))
	}
	writeXML(w, http.StatusOK, struct {
		XMLName     xml.Name     `xml:"ListHostedZonesByNameResponse"`
		Xmlns       string       `xml:"xmlns,attr"`
		HostedZones []hostedZone `xml:"HostedZones>HostedZone"`
		DNSName     string       `xml:"DNSName"`
		IsTruncated bool         `xml:"IsTruncated"`
		MaxItems    string       `xml:"MaxItems"`
	}{Xmlns: ns, HostedZones: zones, DNSName: name, MaxItems: r.URL.Query().Get("maxitems")})
}

func compareKeys(a, b key) int {
	for i := range a {
		if c := strings.Compare(a[i], b[i]); c != 0 {
			return c
		}
	}
	return 0
}

func (s *Server) listSets(w http.ResponseWriter, r *http.Request, z *zone) {
	keys := make([]key, 0, len(z.sets))
	for k := range z.sets {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, compareKeys)
	q := r.URL.Query()
	start := key{strings.ToLower(unescape(q.Get("name"))), q.Get("type"), q.Get("identifier")}
	size := s.pageSize
	if m, err := strconv.Atoi(q.Get("maxitems")); err == nil && m > 0 {
		size = min(size, m)
	}
	var page []wireSet
	var next *key
	for _, k := range keys {
		if start[0] != "" && compareKeys(k, start) < 0 {
			continue
		}
		if len(page) == size {
			next = &k
			break
		}
		page = append(page, toWire(z.sets[k]))
	}
	resp := struct {
		XMLName              xml.Name  `xml:"ListResourceRecordSetsResponse"`
		Xmlns                string    `xml:"xmlns,attr"`
		Sets                 []wireSet `xml:"ResourceRecordSets>ResourceRecordSet"`
		IsTruncated          bool      `xml:"IsTruncated"`
		NextRecordName       string    `xml:"NextRecordName,omitempty"`
		NextRecordType       string    `xml:"NextRecordType,omitempty"`
		NextRecordIdentifier string    `xml:"NextRecordIdentifier,omitempty"`
		MaxItems             string    `xml:"MaxItems"`
	}{Xmlns: ns, Sets: page, MaxItems: strconv.Itoa(size)}
	if next != nil {
		resp.IsTruncated, resp.NextRecordName, resp.NextRecordType, resp.NextRecordIdentifier = true, escape(next[0]), next[1], next[2]
	}
	writeXML(w, http.StatusOK, resp)
}

func (s *Server) change(w http.ResponseWriter, r *http.Request, z *zone) {
	var req struct {
		Changes []struct {
			Action string  `xml:"Action"`
			Set    wireSet `xml:"ResourceRecordSet"`
		} `xml:"ChangeBatch>Changes>Change"`
	}
	if err := xml.NewDecoder(r.Body).Decode(&req); err != nil {
		fail(w, http.StatusBadRequest, "InvalidInput", err.Error())
		return
	}
	if len(req.Changes) == 0 {
		fail(w, http.StatusBadRequest, "InvalidInput", "ChangeBatch must hold at least one change")
		return
	}
	records, chars := 0, 0
	for _, c := range req.Changes {
		weight := 1
		if c.Action == "UPSERT" {
			weight = 2
		}
		records += weight * len(c.Set.Records)
		for _, v := range c.Set.Records {
			chars += weight * len(v.Value)
		}
	}
	if records > MaxRecordsPerChange {
		invalidBatch(w, fmt.Sprintf("Number of records limit of %d exceeded: %d ResourceRecord elements, UPSERT counted twice.", MaxRecordsPerChange, records))
		return
	}
	if chars > MaxValueCharacters {
		invalidBatch(w, fmt.Sprintf("Total value length limit of %d exceeded: %d characters, UPSERT counted twice.", MaxValueCharacters, chars))
		return
	}
	// All or nothing: apply to a copy.
	next := make(map[key]RecordSet, len(z.sets))
	for k, v := range z.sets {
		next[k] = v
	}
	for _, c := range req.Changes {
		set := fromWire(c.Set)
		if msg := apply(next, c.Action, set); msg != "" {
			invalidBatch(w, msg)
			return
		}
	}
	z.sets = next
	s.changes++
	writeXML(w, http.StatusOK, struct {
		XMLName    xml.Name   `xml:"ChangeResourceRecordSetsResponse"`
		Xmlns      string     `xml:"xmlns,attr"`
		ChangeInfo changeInfo `xml:"ChangeInfo"`
	}{Xmlns: ns, ChangeInfo: changeInfo{ID: fmt.Sprintf("/change/C%06d", s.changes), Status: "PENDING", SubmittedAt: time.Now().UTC().Format(time.RFC3339)}})
}

// apply applies one change to sets, or says why the API refuses it.
func apply(sets map[key]RecordSet, action string, set RecordSet) string {
	k := keyOf(set)
	old, exists := sets[k]
	desc := fmt.Sprintf("[name='%s', type='%s'", set.Name, set.Type)
	if set.SetIdentifier != "" {
		desc += fmt.Sprintf(", set-identifier='%s'", set.SetIdentifier)
	}
	desc += "]"
	switch action {
	case "CREATE", "UPSERT":
		if action == "CREATE" && exists {
			return fmt.Sprintf("Tried to create resource record set %s but it already exists", desc)
		}
		if set.Alias == nil && len(set.Values) == 0 {
			return fmt.Sprintf("Resource record set %s must have ResourceRecords or an AliasTarget", desc)
		}
		if set.Type == "TXT" || set.Type == "SPF" {
			for _, v := range set.Values {
				if msg := badTXT(v); msg != "" {
					return fmt.Sprintf("Invalid Resource Record: 'FATAL problem: InvalidCharacterString (%s) encountered with '%s''", msg, v)
				}
			}
		}
		for other := range sets {
			if other[0] != set.Name || other == k {
				continue
			}
			switch {
			case other[1] == set.Type && (other[2] == "") != (set.SetIdentifier == ""):
				return fmt.Sprintf("RRSet %s cannot be created because a record set of the same name and type with a different routing policy (set identifier '%s') exists", desc, other[2])
			case other[1] != set.Type && (other[1] == "CNAME" || set.Type == "CNAME"):
				return fmt.Sprintf("RRSet of type CNAME with DNS name %s is not permitted as it conflicts with other records with the same DNS name in zone", set.Name)
			}
		}
		sets[k] = set
	case "DELETE":
		if !exists || !same(old, set) {
			return fmt.Sprintf("Tried to delete resource record set %s but it was not found or the values provided do not match the current values", desc)
		}
		delete(sets, k)
	default:
		return "Unknown action " + action
	}
	return ""
}

// badTXT says what is wrong with a TXT value, or returns "".
func badTXT(v string) string {
	for i := 0; i < len(v); i++ {
		if v[i] < ' ' && v[i] != '\t' || v[i] > '~' {
			return fmt.Sprintf("octet \\%03o must be written as an octal escape", v[i])
		}
	}
	if _, err := dnstxt.StringsOctal(v); err != nil {
		return err.Error()
	}
	return ""
}

// same reports whether a DELETE's set matches the held one exactly.
func same(held, del RecordSet) bool {
	if (held.Alias == nil) != (del.Alias == nil) {
		return false
	}
	if held.Alias != nil {
		return strings.EqualFold(strings.TrimSuffix(held.Alias.DNSName, "."), strings.TrimSuffix(del.Alias.DNSName, "."))
	}
	a, b := slices.Clone(held.Values), slices.Clone(del.Values)
	slices.Sort(a)
	slices.Sort(b)
	return held.TTL == del.TTL && slices.Equal(a, b)
}

// escape writes name as Route 53 lists it: * and any character other than
// a-z, 0-9, hyphen, underscore and dot as \NNN (octal).
func escape(name string) string {
	var b strings.Builder
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, `\%03o`, c)
		}
	}
	return b.String()
}

// unescape reverses escape, for names sent escaped.
func unescape(name string) string {
	var b strings.Builder
	for i := 0; i < len(name); i++ {
		if name[i] == '\\' && i+4 <= len(name) {
			if n, err := strconv.ParseUint(name[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(name[i])
	}
	return b.String()
}
