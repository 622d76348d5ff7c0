// Package route53fake is a local fake of the Route 53 REST-XML API, as far
// as libdns providers use it: hosted zone lookup by name, record set lists
// with paging, change batches (CREATE, UPSERT, DELETE, all or nothing),
// GetChange, and throttling errors on demand. Point the AWS SDK at it with
// the standard AWS_ENDPOINT_URL_ROUTE_53 environment variable. It counts
// requests so tests can tell what an operation costs.
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
)

const ns = "https://route53.amazonaws.com/doc/2013-04-01/"

// RecordSet is one resource record set.
type RecordSet struct {
	Name   string   `xml:"Name"`
	Type   string   `xml:"Type"`
	TTL    int64    `xml:"TTL"`
	Values []string `xml:"ResourceRecords>ResourceRecord>Value"`
}

// wireSet is a RecordSet as encoded: each value in a ResourceRecord of its
// own (encoding/xml would put every Value in one ResourceRecord).
type wireSet struct {
	Name    string `xml:"Name"`
	Type    string `xml:"Type"`
	TTL     int64  `xml:"TTL"`
	Records []struct {
		Value string `xml:"Value"`
	} `xml:"ResourceRecords>ResourceRecord"`
}

func wire(s RecordSet) wireSet {
	w := wireSet{Name: s.Name, Type: s.Type, TTL: s.TTL}
	for _, v := range s.Values {
		w.Records = append(w.Records, struct {
			Value string `xml:"Value"`
		}{v})
	}
	return w
}

// Server is the fake. Create it with Start.
type Server struct {
	URL string

	srv *httptest.Server

	mu       sync.Mutex
	zones    map[string]string                  // name with trailing dot -> ID (without /hostedzone/)
	sets     map[string]map[[2]string]RecordSet // zone ID -> (name, type) -> set
	changes  int
	requests map[string]int
	throttle int // requests left to throttle
	pageSize int
}

// Start starts a fake holding the given zones (FQDNs with trailing dots).
func Start(zones ...string) *Server {
	s := &Server{zones: map[string]string{}, sets: map[string]map[[2]string]RecordSet{}, requests: map[string]int{}, pageSize: 100}
	for i, z := range zones {
		id := fmt.Sprintf("Z%04dFAKE", i+1)
		s.zones[z] = id
		s.sets[id] = map[[2]string]RecordSet{
			{z, "SOA"}: {Name: z, Type: "SOA", TTL: 900, Values: []string{"ns-1.awsdns-00.com. awsdns-hostmaster.amazon.com. 1 7200 900 1209600 86400"}},
			{z, "NS"}:  {Name: z, Type: "NS", TTL: 172800, Values: []string{"ns-1.awsdns-00.com."}},
		}
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.srv.URL
	return s
}

// Close stops the fake.
func (s *Server) Close() { s.srv.Close() }

// ZoneID returns the hosted zone ID of zone.
func (s *Server) ZoneID(zone string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.zones[zone]
}

// SetPageSize sets how many record sets a list page holds at most.
func (s *Server) SetPageSize(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pageSize = n
}

// Throttle makes the next n requests fail with Route 53's Throttling error.
func (s *Server) Throttle(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.throttle = n
}

// Requests returns how many requests of a kind were served: "zones",
// "list", "change", "getchange"; "" counts all.
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

// Put stores a record set directly, as the console would.
func (s *Server) Put(zone string, set RecordSet) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sets[s.zones[zone]][[2]string{set.Name, set.Type}] = set
}

// Sets returns the record sets of zone other than SOA and NS, as "name
// type ttl value,value" lines, sorted.
func (s *Server) Sets(zone string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, set := range s.sets[s.zones[zone]] {
		if set.Type == "SOA" || set.Type == "NS" {
			continue
		}
		v := slices.Clone(set.Values)
		slices.Sort(v)
		out = append(out, fmt.Sprintf("%s %s %d %s", set.Name, set.Type, set.TTL, strings.Join(v, ",")))
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
	case parts[0] == "change":
		kind = "getchange"
	case parts[0] == "hostedzonesbyname":
		kind = "zones"
	}
	s.requests[kind]++
	if s.throttle > 0 {
		s.throttle--
		fail(w, http.StatusBadRequest, "Throttling", "Rate exceeded")
		return
	}
	if !strings.Contains(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256") {
		fail(w, http.StatusForbidden, "MissingAuthenticationToken", "Missing Authentication Token")
		return
	}
	switch kind {
	case "zones":
		s.listZones(w, r)
	case "list":
		s.listSets(w, r, parts[1])
	case "change":
		s.change(w, r, parts[1])
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

func (s *Server) listZones(w http.ResponseWriter, r *http.Request) {
	name := r.URL.Query().Get("dnsname")
	type hostedZone struct {
		ID              string `xml:"Id"`
		Name            string `xml:"Name"`
		CallerReference string `xml:"CallerReference"`
		PrivateZone     bool   `xml:"Config>PrivateZone"`
		Count           int    `xml:"ResourceRecordSetCount"`
	}
	var names []string
	for z := range s.zones {
		if z >= name || name == "" {
			names = append(names, z)
		}
	}
	slices.Sort(names)
	max, _ := strconv.Atoi(r.URL.Query().Get("maxitems"))
	if max > 0 && len(names) > max {
		names = names[:max]
	}
	var zones []hostedZone
	for _, z := range names {
		zones = append(zones, hostedZone{ID: "/hostedzone/" + s.zones[z], Name: z, CallerReference: "fake", Count: len(s.sets[s.zones[z]])})
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

func (s *Server) listSets(w http.ResponseWriter, r *http.Request, zoneID string) {
	sets, ok := s.sets[zoneID]
	if !ok {
		fail(w, http.StatusNotFound, "NoSuchHostedZone", "No hosted zone found with ID: "+zoneID)
		return
	}
	keys := make([][2]string, 0, len(sets))
	for k := range sets {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b [2]string) int {
		if c := strings.Compare(a[0], b[0]); c != 0 {
			return c
		}
		return strings.Compare(a[1], b[1])
	})
	q := r.URL.Query()
	start := [2]string{q.Get("name"), q.Get("type")}
	size := s.pageSize
	if m, err := strconv.Atoi(q.Get("maxitems")); err == nil && m > 0 {
		size = min(size, m)
	}
	var page []wireSet
	var next *[2]string
	for _, k := range keys {
		if start[0] != "" && (k[0] < start[0] || k[0] == start[0] && start[1] != "" && k[1] < start[1]) {
			continue
		}
		if len(page) == size {
			next = &k
			break
		}
		page = append(page, wire(sets[k]))
	}
	resp := struct {
		XMLName        xml.Name  `xml:"ListResourceRecordSetsResponse"`
		Xmlns          string    `xml:"xmlns,attr"`
		Sets           []wireSet `xml:"ResourceRecordSets>ResourceRecordSet"`
		IsTruncated    bool      `xml:"IsTruncated"`
		NextRecordName string    `xml:"NextRecordName,omitempty"`
		NextRecordType string    `xml:"NextRecordType,omitempty"`
		MaxItems       string    `xml:"MaxItems"`
	}{Xmlns: ns, Sets: page, MaxItems: strconv.Itoa(size)}
	if next != nil {
		resp.IsTruncated, resp.NextRecordName, resp.NextRecordType = true, next[0], next[1]
	}
	writeXML(w, http.StatusOK, resp)
}

func (s *Server) change(w http.ResponseWriter, r *http.Request, zoneID string) {
	sets, ok := s.sets[zoneID]
	if !ok {
		fail(w, http.StatusNotFound, "NoSuchHostedZone", "No hosted zone found with ID: "+zoneID)
		return
	}
	var req struct {
		Changes []struct {
			Action string    `xml:"Action"`
			Set    RecordSet `xml:"ResourceRecordSet"`
		} `xml:"ChangeBatch>Changes>Change"`
	}
	if err := xml.NewDecoder(r.Body).Decode(&req); err != nil {
		fail(w, http.StatusBadRequest, "InvalidInput", err.Error())
		return
	}
	if n := len(req.Changes); n == 0 || n > 1000 {
		fail(w, http.StatusBadRequest, "InvalidChangeBatch", fmt.Sprintf("%d changes: want 1 to 1000", n))
		return
	}
	// All or nothing: apply to a copy.
	next := map[[2]string]RecordSet{}
	for k, v := range sets {
		next[k] = v
	}
	for _, c := range req.Changes {
		c.Set.Name = strings.ToLower(c.Set.Name)
		k := [2]string{c.Set.Name, c.Set.Type}
		old, exists := next[k]
		switch c.Action {
		case "CREATE", "UPSERT":
			if c.Action == "CREATE" && exists {
				fail(w, http.StatusBadRequest, "InvalidChangeBatch", fmt.Sprintf("Tried to create resource record set [name='%s', type='%s'] but it already exists", k[0], k[1]))
				return
			}
			if len(c.Set.Values) == 0 {
				fail(w, http.StatusBadRequest, "InvalidInput", "ResourceRecords must not be empty")
				return
			}
			next[k] = c.Set
		case "DELETE":
			if !exists || old.TTL != c.Set.TTL || !sameValues(old.Values, c.Set.Values) {
				fail(w, http.StatusBadRequest, "InvalidChangeBatch", fmt.Sprintf("Tried to delete resource record set [name='%s', type='%s'] but the values provided do not match the current values", k[0], k[1]))
				return
			}
			delete(next, k)
		default:
			fail(w, http.StatusBadRequest, "InvalidInput", "unknown action "+c.Action)
			return
		}
	}
	s.sets[zoneID] = next
	s.changes++
	writeXML(w, http.StatusOK, struct {
		XMLName    xml.Name   `xml:"ChangeResourceRecordSetsResponse"`
		Xmlns      string     `xml:"xmlns,attr"`
		ChangeInfo changeInfo `xml:"ChangeInfo"`
	}{Xmlns: ns, ChangeInfo: changeInfo{ID: fmt.Sprintf("/change/C%06d", s.changes), Status: "PENDING", SubmittedAt: time.Now().UTC().Format(time.RFC3339)}})
}

func sameValues(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}
