package cloudflare

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// APIError is an error response of Cloudflare's API. Find it in an error
// returned by a Provider with errors.As.
type APIError struct {
	Method     string // such as "PATCH"
	Path       string // below the endpoint, without the query
	StatusCode int    // the HTTP status
	Errors     []ErrorDetail
}

// ErrorDetail is one entry of an error response's "errors" list.
type ErrorDetail struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

// Error returns the request, the status and every code with its message.
func (e *APIError) Error() string {
	var msgs []string
	for _, d := range e.Errors {
		msgs = append(msgs, fmt.Sprintf("%d %s", d.Code, d.Message))
	}
	return fmt.Sprintf("%s %s: HTTP %d: %s", e.Method, e.Path, e.StatusCode, strings.Join(msgs, "; "))
}

// Has reports whether code is one of the error's codes (such as 81053, a
// record beside a CNAME).
func (e *APIError) Has(code int) bool {
	for _, d := range e.Errors {
		if d.Code == code {
			return true
		}
	}
	return false
}

// redacted is an error whose message never shows the secrets; it unwraps
// to the original error, so errors.Is and errors.As still see the cause.
type redacted struct {
	err     error
	secrets []string
}

func (e *redacted) Error() string {
	msg := e.err.Error()
	for _, s := range e.secrets {
		if s != "" {
			msg = strings.ReplaceAll(msg, s, "[token]")
		}
	}
	return msg
}

func (e *redacted) Unwrap() error { return e.err }

// wrap names the operation and zone in err, and keeps the tokens out of
// its message.
func (p *Provider) wrap(op, zone string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("cloudflare: %s %s: %w", op, zone, &redacted{err, []string{p.token, p.zoneToken}})
}

type resultInfo struct {
	Page       int `json:"page"`
	PerPage    int `json:"per_page"`
	TotalCount int `json:"total_count"`
}

// call sends one API request to the endpoint, authenticated with token,
// and decodes the envelope's result into result (when not nil).
func (p *Provider) call(ctx context.Context, token, method, path string, body, result any) (*resultInfo, error) {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, p.endpoint+path, r)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := p.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var env struct {
		Success    bool            `json:"success"`
		Result     json.RawMessage `json:"result"`
		Errors     []ErrorDetail   `json:"errors"`
		ResultInfo *resultInfo     `json:"result_info"`
	}
	short, _, _ := strings.Cut(path, "?")
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<20)).Decode(&env); err != nil {
		return nil, fmt.Errorf("%s %s: HTTP %d: decoding the response: %w", method, short, resp.StatusCode, err)
	}
	if resp.StatusCode >= 400 || !env.Success {
		return nil, &APIError{Method: method, Path: short, StatusCode: resp.StatusCode, Errors: env.Errors}
	}
	if result != nil && len(env.Result) > 0 {
		if err := json.Unmarshal(env.Result, result); err != nil {
			return nil, fmt.Errorf("%s %s: decoding the result: %w", method, short, err)
		}
	}
	return env.ResultInfo, nil
}

// perPage is how many records a list request asks for (Cloudflare's
// default and the page the fake serves).
const perPage = 100

// listAttempts is how many times a list is read again when its pages
// shifted under a concurrent change before list gives up.
const listAttempts = 3

// list returns the records of one (name, type), or of the whole zone when
// both are empty, reading every page. Pages are offset-based, so a record
// created or deleted by someone else between two page reads shifts the
// ones after it: a record may be listed twice (it is kept once, by ID) or
// missed. A miss shows as a total_count that changes between pages, or as
// fewer distinct records than the total; then the list is read again, up
// to listAttempts times, and then it fails rather than return a list that
// may miss a record. (A deletion and a creation that land on both sides
// of a page boundary between two reads keep the count: that one shift
// goes unseen until the next read, which is why SetRecords lists the
// RRsets it writes one by one when that costs fewer requests.)
func (p *Provider) list(ctx context.Context, zoneID, typ, name string) ([]record, error) {
	return p.listFrom(ctx, zoneID, typ, name, nil, nil)
}

// listFrom is list, with its first page already read when first is not
// nil.
func (p *Provider) listFrom(ctx context.Context, zoneID, typ, name string, first []record, info *resultInfo) ([]record, error) {
	for attempt := 1; ; attempt++ {
		if first == nil {
			var err error
			if first, info, err = p.page(ctx, zoneID, typ, name, 1); err != nil {
				return nil, err
			}
		}
		recs, whole, err := p.rest(ctx, zoneID, typ, name, first, info)
		first = nil
		if err != nil || whole {
			return recs, err
		}
		if attempt == listAttempts {
			return nil, fmt.Errorf("the records changed while their pages were read, %d times in a row: try again", attempt)
		}
	}
}

// page reads one page of a list.
func (p *Provider) page(ctx context.Context, zoneID, typ, name string, n int) ([]record, *resultInfo, error) {
	q := url.Values{"page": {fmt.Sprint(n)}, "per_page": {fmt.Sprint(perPage)}}
	if typ != "" {
		q.Set("type", typ)
		q.Set("name", strings.TrimSuffix(name, "."))
	}
	var recs []record
	info, err := p.call(ctx, p.token, http.MethodGet, "/zones/"+zoneID+"/dns_records?"+q.Encode(), nil, &recs)
	return recs, info, err
}

// rest reads the pages after the first (given with its result_info) and
// returns every record once, and whether the list is whole: every page
// reported the first page's total, and that many distinct records were
// read.
func (p *Provider) rest(ctx context.Context, zoneID, typ, name string, first []record, info *resultInfo) ([]record, bool, error) {
	seen := map[string]bool{}
	var all []record
	add := func(recs []record) {
		for _, r := range recs {
			if !seen[r.ID] {
				seen[r.ID] = true
				all = append(all, r)
			}
		}
	}
	add(first)
	if info == nil { // no paging information: one page
		return all, true, nil
	}
	total, recs := info.TotalCount, first
	for n := 2; len(recs) > 0 && (n-1)*max(info.PerPage, 1) < total; n++ {
		var err error
		recs, info, err = p.page(ctx, zoneID, typ, name, n)
		if err != nil {
			return nil, false, err
		}
		if info == nil || info.TotalCount != total {
			return nil, false, nil
		}
		add(recs)
	}
	return all, len(all) >= total, nil
}
