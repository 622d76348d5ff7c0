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

// list returns the records of one (name, type), or of the whole zone when
// both are empty, reading every page.
func (p *Provider) list(ctx context.Context, zoneID, typ, name string) ([]record, error) {
	var all []record
	for page := 1; ; page++ {
		q := url.Values{"page": {fmt.Sprint(page)}, "per_page": {"100"}}
		if typ != "" {
			q.Set("type", typ)
			q.Set("name", strings.TrimSuffix(name, "."))
		}
		var recs []record
		info, err := p.call(ctx, p.token, http.MethodGet, "/zones/"+zoneID+"/dns_records?"+q.Encode(), nil, &recs)
		if err != nil {
			return nil, err
		}
		all = append(all, recs...)
		if info == nil || len(recs) == 0 || page*info.PerPage >= info.TotalCount {
			return all, nil
		}
	}
}
