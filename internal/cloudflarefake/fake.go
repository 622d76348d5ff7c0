// Package cloudflarefake is a local fake of the Cloudflare API v4, as far
// as DNS providers use it. It speaks the real API's shapes (the JSON
// envelope {"success","errors","messages","result","result_info"}, bearer
// tokens, paged lists) and reproduces the behaviours that hurt a client
// that ignores them, each following the Cloudflare API v4 documentation
// named beside it:
//
//   - A record's proxied, comment, tags and settings belong to the record
//     (DNS records: "Create DNS Record", "Update DNS Record"): PATCH keeps
//     the fields it is not given, a PUT or a batch put resets them, and a
//     record created without proxied is DNS-only, so create-then-delete
//     loses them.
//   - Proxied records have an automatic TTL and report TTL 1 whatever was
//     sent ("ttl: Setting to 1 means 'automatic'"; proxied records are
//     always automatic). A DNS-only TTL must be 1 or 60–86,400 s (error
//     9021); only A, AAAA and CNAME records can be proxied (error 9004).
//   - A CNAME is alone at its name ("A, AAAA, and CNAME records cannot
//     exist on the same name"): a record beside a CNAME, or a CNAME beside
//     any record, another CNAME included, is refused with error 81053. An
//     identical record is refused with 81058.
//   - MX wants its preference in the priority field, and its content is a
//     host name (a "10 mx.example.com" content is refused); SRV, CAA,
//     HTTPS and SVCB want the structured data object, from which the
//     content is derived ("data" in "Create DNS Record").
//   - TXT content is returned quoted ("TXT content is wrapped in quotation
//     marks"); content is compared exactly, so a change of case is a
//     change.
//   - The batch endpoint POST /zones/{id}/dns_records/batch ("Batch DNS
//     Records") applies deletes, patches, puts and posts in that order, in
//     one transaction: all or nothing. At most 200 records per batch
//     (Batch record changes: "Free: 200", 3,500 on paid plans; see
//     SetBatchLimit).
//   - Rate limit ("Rate limits": 1,200 requests per five minutes per user;
//     "If you exceed this limit, all API calls for the next five minutes
//     will be blocked, receiving a HTTP 429 response"): the first request
//     beyond 1,200 in a 5-minute window starts a block, and it and every
//     request for the next 5 minutes are refused with HTTP 429 and
//     Retry-After, the seconds left of the block (see SetRateLimit).
//   - Lists are paged (per_page at most 100 here, result_info with
//     total_count) and filtered by exact type and name.
//
// Error codes the documentation gives (9021, 81044, 81053, 81058, 9004,
// 10000) are used as given; the others (9100 for a missing priority, 9101
// for missing data, 9102 for an invalid content, 9103 for an oversized
// batch, 971 for the rate limit) are the fake's own choice. Faults can be
// injected (FailNext), and every request is counted, so tests can tell
// what an operation costs.
package cloudflarefake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Fault makes a request fail instead of being served.
type Fault struct {
	Status     int // 429 or 5xx
	RetryAfter int // seconds, sent with 429
}

// Server is the fake. Create it with Start (listening on loopback) or New
// (in process only, for testing/synctest bubbles).
type Server struct {
	URL   string // base URL, such as http://127.0.0.1:PORT/client/v4
	Token string // the bearer token it accepts

	srv *httptest.Server

	mu         sync.Mutex
	zones      map[string]string  // name (no trailing dot) -> id
	records    map[string]*Record // by id
	nextID     int
	requests   map[string]int // "METHOD kind" -> count
	faults     []func(*http.Request) *Fault
	rateLimit  int
	rateWindow time.Duration
	served     []time.Time // times of the requests served inside the window
	blocked    time.Time   // every request is refused until then
	batchLimit int
}

// DefaultRateLimit and DefaultRateWindow are Cloudflare's global API rate
// limit: 1,200 requests per 5 minutes.
const (
	DefaultRateLimit  = 1200
	DefaultRateWindow = 5 * time.Minute
)

// DefaultBatchLimit is how many record changes one batch may hold on a
// Free plan.
const DefaultBatchLimit = 200

// New returns a fake holding the given zones (names with or without a
// trailing dot) and accepting token, served in process by Transport: it
// opens no socket, so it runs inside a testing/synctest bubble. URL is a
// placeholder that only Transport can reach.
func New(token string, zones ...string) *Server {
	s := &Server{
		Token: token, URL: "https://cloudflare.fake/client/v4",
		zones: map[string]string{}, records: map[string]*Record{}, requests: map[string]int{},
		rateLimit: DefaultRateLimit, rateWindow: DefaultRateWindow, batchLimit: DefaultBatchLimit,
	}
	for i, z := range zones {
		s.zones[strings.ToLower(strings.TrimSuffix(z, "."))] = fmt.Sprintf("zone%03d", i+1)
	}
	return s
}

// Start is New, listening on loopback: URL is then the real base URL.
func Start(token string, zones ...string) *Server {
	s := New(token, zones...)
	s.srv = httptest.NewServer(s)
	s.URL = s.srv.URL + "/client/v4"
	return s
}

// Close stops the fake's listener, if it has one.
func (s *Server) Close() {
	if s.srv != nil {
		s.srv.Close()
	}
}

// Transport returns a RoundTripper that serves every request in process,
// whatever its host.
func (s *Server) Transport() http.RoundTripper { return inProcess{s} }

type inProcess struct{ s *Server }

func (t inProcess) RoundTrip(r *http.Request) (*http.Response, error) {
	if err := r.Context().Err(); err != nil {
		return nil, err
	}
	w := httptest.NewRecorder()
	t.s.ServeHTTP(w, r)
	resp := w.Result()
	resp.Request = r
	return resp, nil
}

// SetRateLimit makes the fake refuse, with 429, a request beyond n in any
// window, and then every request for one window more (Cloudflare blocks
// every call for 5 minutes after an excess). n <= 0 turns the limit off.
// It ends any block under way.
func (s *Server) SetRateLimit(n int, window time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rateLimit, s.rateWindow, s.served, s.blocked = n, window, nil, time.Time{}
}

// SetBatchLimit sets how many record changes one batch request may hold
// (3,500 on paid plans). n <= 0 means no limit.
func (s *Server) SetBatchLimit(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.batchLimit = n
}

// Requests returns how many requests of a kind were served, such as "GET
// zones", "GET dns_records", "POST dns_records", "PATCH dns_records",
// "PUT dns_records", "DELETE dns_records", "POST batch"; "" counts all of
// them.
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

// ResetRequests sets the request counts to zero.
func (s *Server) ResetRequests() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.requests)
}

// FailNext makes the next n requests for which match returns true (nil:
// any) fail with f.
func (s *Server) FailNext(n int, match func(*http.Request) bool, f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	left := n
	s.faults = append(s.faults, func(r *http.Request) *Fault {
		if left > 0 && (match == nil || match(r)) {
			left--
			return &f
		}
		return nil
	})
}

// Add puts a record straight into the fake (name relative to zone, "@"
// for the apex), as an edit in the dashboard would, and returns its ID. It
// panics on a record the API would refuse: that is a bug in the test.
func (s *Server) Add(zone, name, typ, content string, ttl int) string {
	return s.AddRecord(zone, Record{Name: name, Type: typ, Content: content, TTL: ttl}).ID
}

// AddRecord puts r straight into zone (r.Name relative to it, "@" for the
// apex), with its proxied, comment, tags, settings, priority or data, as
// the dashboard would, and returns it as stored. It panics on a record the
// API would refuse: that is a bug in the test.
func (s *Server) AddRecord(zone string, r Record) Record {
	s.mu.Lock()
	defer s.mu.Unlock()
	z := strings.ToLower(strings.TrimSuffix(zone, "."))
	r.ZoneID = s.zones[z]
	r.Name = fqdn(r.Name, z)
	if e := s.normalize(&r); e != nil {
		panic(fmt.Sprintf("cloudflarefake: AddRecord(%+v): %d %s", r, e.Code, e.Message))
	}
	return *s.create(r)
}

// Get returns the records of zone, sorted by name, type and content.
func (s *Server) Get(zone string) []Record {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := s.zones[strings.ToLower(strings.TrimSuffix(zone, "."))]
	var out []Record
	for _, r := range s.records {
		if r.ZoneID == id {
			out = append(out, r.clone())
		}
	}
	slices.SortFunc(out, func(a, b Record) int {
		return strings.Compare(a.Name+" "+a.Type+" "+a.Content, b.Name+" "+b.Type+" "+b.Content)
	})
	return out
}

// Records returns the records of zone as "name type content ttl" lines
// (with " proxied" at the end of proxied ones), sorted.
func (s *Server) Records(zone string) []string {
	var out []string
	for _, r := range s.Get(zone) {
		line := fmt.Sprintf("%s %s %s %d", r.Name, r.Type, r.Content, r.TTL)
		if r.Priority != nil {
			line = fmt.Sprintf("%s %s %d %s %d", r.Name, r.Type, *r.Priority, r.Content, r.TTL)
		}
		if r.Proxied {
			line += " proxied"
		}
		out = append(out, line)
	}
	slices.Sort(out)
	return out
}

func fqdn(name, zone string) string {
	name = strings.ToLower(strings.TrimSuffix(name, "."))
	switch {
	case name == "@" || name == "" || name == zone:
		return zone
	case strings.HasSuffix(name, "."+zone):
		return name
	}
	return name + "." + zone
}

func (s *Server) create(r Record) *Record {
	s.nextID++
	r.ID = fmt.Sprintf("rec%06d", s.nextID)
	now := time.Now().UTC().Format(time.RFC3339)
	r.CreatedOn, r.ModifiedOn = now, now
	s.records[r.ID] = &r
	return &r
}

type apiError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

type resultInfo struct {
	Page       int `json:"page"`
	PerPage    int `json:"per_page"`
	Count      int `json:"count"`
	TotalCount int `json:"total_count"`
}

func reply(w http.ResponseWriter, status int, result any, info *resultInfo, errs ...apiError) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	body := map[string]any{"success": len(errs) == 0, "errors": errs, "messages": []any{}, "result": result}
	if errs == nil {
		body["errors"] = []apiError{}
	}
	if info != nil {
		body["result_info"] = info
	}
	json.NewEncoder(w).Encode(body)
}

// limited reports whether the request must be refused by the rate limit,
// and how many seconds until the block it is in ends; otherwise it counts
// it. A request beyond the limit starts a block of one window.
func (s *Server) limited(now time.Time) (bool, int) {
	if s.rateLimit <= 0 {
		return false, 0
	}
	if now.Before(s.blocked) {
		return true, int((s.blocked.Sub(now) + time.Second - 1) / time.Second)
	}
	i := 0
	for i < len(s.served) && !s.served[i].After(now.Add(-s.rateWindow)) {
		i++
	}
	s.served = s.served[i:]
	if len(s.served) >= s.rateLimit {
		s.blocked, s.served = now.Add(s.rateWindow), nil
		return true, int((s.rateWindow + time.Second - 1) / time.Second)
	}
	s.served = append(s.served, now)
	return false, 0
}

// ServeHTTP serves one API request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := strings.TrimPrefix(r.URL.Path, "/client/v4/")
	parts := strings.Split(path, "/")
	kind := parts[0]
	if len(parts) >= 3 {
		kind = parts[2]
	}
	if len(parts) == 4 && parts[3] == "batch" {
		kind = "batch"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests[r.Method+" "+kind]++
	for _, f := range s.faults {
		if fault := f(r); fault != nil {
			if fault.RetryAfter > 0 {
				w.Header().Set("Retry-After", strconv.Itoa(fault.RetryAfter))
			}
			reply(w, fault.Status, nil, nil, apiError{Code: 10000 + fault.Status, Message: http.StatusText(fault.Status)})
			return
		}
	}
	if limited, after := s.limited(time.Now()); limited {
		w.Header().Set("Retry-After", strconv.Itoa(after))
		reply(w, http.StatusTooManyRequests, nil, nil, apiError{Code: 971, Message: "Please wait and consider throttling your request speed"})
		return
	}
	if r.Header.Get("Authorization") != "Bearer "+s.Token {
		reply(w, http.StatusForbidden, nil, nil, apiError{Code: 10000, Message: "Authentication error"})
		return
	}
	if len(parts) >= 2 && parts[0] == "zones" && !slices.Contains(mapValues(s.zones), parts[1]) {
		reply(w, http.StatusNotFound, nil, nil, apiError{Code: 7003, Message: "Could not route to /zones/" + parts[1] + ", perhaps your object identifier is invalid?"})
		return
	}
	switch {
	case len(parts) == 1 && parts[0] == "zones" && r.Method == http.MethodGet:
		s.listZones(w, r)
	case len(parts) == 3 && parts[0] == "zones" && parts[2] == "dns_records" && r.Method == http.MethodGet:
		s.listRecords(w, r, parts[1])
	case len(parts) == 3 && parts[0] == "zones" && parts[2] == "dns_records" && r.Method == http.MethodPost:
		s.createRecord(w, r, parts[1])
	case len(parts) == 4 && parts[0] == "zones" && parts[2] == "dns_records" && parts[3] == "batch" && r.Method == http.MethodPost:
		s.batch(w, r, parts[1])
	case len(parts) == 4 && parts[0] == "zones" && parts[2] == "dns_records":
		s.recordByID(w, r, parts[1], parts[3])
	default:
		reply(w, http.StatusNotFound, nil, nil, apiError{Code: 7000, Message: "No route for that URI"})
	}
}

func mapValues(m map[string]string) []string {
	var out []string
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

func (s *Server) listZones(w http.ResponseWriter, r *http.Request) {
	name := strings.ToLower(strings.TrimSuffix(r.URL.Query().Get("name"), "."))
	var names []string
	for z := range s.zones {
		if name == "" || name == z {
			names = append(names, z)
		}
	}
	slices.Sort(names)
	page, perPage := paging(r, 20, 50)
	start := min((page-1)*perPage, len(names))
	end := min(start+perPage, len(names))
	out := []map[string]string{}
	for _, z := range names[start:end] {
		out = append(out, map[string]string{"id": s.zones[z], "name": z})
	}
	reply(w, http.StatusOK, out, &resultInfo{Page: page, PerPage: perPage, Count: len(out), TotalCount: len(names)})
}

// paging reads page and per_page, with per_page's default and maximum.
func paging(r *http.Request, def, most int) (page, perPage int) {
	q := r.URL.Query()
	page, _ = strconv.Atoi(q.Get("page"))
	perPage, err := strconv.Atoi(q.Get("per_page"))
	if err != nil {
		perPage = def
	}
	return max(page, 1), min(max(perPage, 1), most)
}

func (s *Server) listRecords(w http.ResponseWriter, r *http.Request, zoneID string) {
	q := r.URL.Query()
	name := strings.ToLower(strings.TrimSuffix(q.Get("name"), "."))
	all := []Record{}
	for _, rec := range s.records {
		if rec.ZoneID != zoneID ||
			q.Get("type") != "" && rec.Type != q.Get("type") ||
			name != "" && rec.Name != name ||
			q.Get("content.exact") != "" && rec.Content != q.Get("content.exact") {
			continue
		}
		all = append(all, rec.clone())
	}
	slices.SortFunc(all, func(a, b Record) int { return strings.Compare(a.ID, b.ID) })
	page, perPage := paging(r, 100, 100)
	start := min((page-1)*perPage, len(all))
	end := min(start+perPage, len(all))
	reply(w, http.StatusOK, all[start:end], &resultInfo{Page: page, PerPage: perPage, Count: end - start, TotalCount: len(all)})
}

func (s *Server) createRecord(w http.ResponseWriter, r *http.Request, zoneID string) {
	var in input
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		reply(w, http.StatusBadRequest, nil, nil, apiError{Code: 9207, Message: "Request body is invalid."})
		return
	}
	rec, e := s.build(Record{ZoneID: zoneID}, in, true)
	if e != nil {
		reply(w, http.StatusBadRequest, nil, nil, *e)
		return
	}
	reply(w, http.StatusOK, s.create(rec), nil)
}

func (s *Server) recordByID(w http.ResponseWriter, r *http.Request, zoneID, id string) {
	old, ok := s.records[id]
	if !ok || old.ZoneID != zoneID {
		reply(w, http.StatusNotFound, nil, nil, apiError{Code: 81044, Message: "Record does not exist."})
		return
	}
	switch r.Method {
	case http.MethodGet:
		reply(w, http.StatusOK, old.clone(), nil)
	case http.MethodDelete:
		delete(s.records, id)
		reply(w, http.StatusOK, map[string]string{"id": id}, nil)
	case http.MethodPatch, http.MethodPut:
		var in input
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			reply(w, http.StatusBadRequest, nil, nil, apiError{Code: 9207, Message: "Request body is invalid."})
			return
		}
		rec, e := s.build(old.clone(), in, r.Method == http.MethodPut)
		if e != nil {
			reply(w, http.StatusBadRequest, nil, nil, *e)
			return
		}
		s.records[id] = &rec
		reply(w, http.StatusOK, rec.clone(), nil)
	default:
		reply(w, http.StatusMethodNotAllowed, nil, nil, apiError{Code: 10405, Message: "Method not allowed"})
	}
}
