// Package httpapi serves a Manager's status and operator actions over
// HTTP: the Status as JSON, a self-refreshing HTML page, and drain, force
// and failback behind a bearer token. Mount it in any Go service:
//
//	http.Handle("/failover/", http.StripPrefix("/failover", httpapi.New(m, httpapi.Options{Token: token})))
package httpapi

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/pprof"
	"strings"
	"time"

	"github.com/dnsfailover/failover"
)

// Options configure New.
type Options struct {
	// Token is the bearer token the operator actions require
	// ("Authorization: Bearer TOKEN", the scheme in any case). Empty means
	// the actions are refused: they are never open.
	Token string
	// Refresh is how often the HTML page reloads itself, in whole seconds.
	// Zero means 5 s; less than a second means 1 s.
	Refresh time.Duration
	// Logger receives the audit log: every operator action with its kind,
	// record, endpoint, expiry and client address, and every request
	// refused for its token. Nil means no audit log.
	Logger *slog.Logger
	// Pprof serves net/http/pprof under /debug/pprof/, behind the token
	// like the operator actions. False means not served.
	Pprof bool
}

// New returns an http.Handler for m's status and operator actions:
//
//	GET  /status    the Status, as JSON; ?zone=NAME keeps one zone and
//	                ?unhealthy=1 only the records that need attention
//	GET  /          the same as an HTML page that refreshes itself, with a
//	                summary and the same filters
//	POST /override  {"zone","name","type","value","override","for"}: force an
//	                endpoint up ("force-up"), down ("force-down", drain) or
//	                clear it ("none"), "for" a positive duration such as
//	                "30m" (absent or empty: until cleared)
//	POST /failback  {"zone","name","type"}: fail a record back now
//	GET  /debug/pprof/…  when Options.Pprof is set
//
// The POST routes and pprof need the bearer token of opts. Errors are JSON
// {"error": "..."} with a fitting status. Responses are compressed with
// gzip when the client accepts it, and carry headers that keep browsers
// from sniffing, framing or loading anything else into the page. It is safe
// for concurrent use.
func New(m *failover.Manager, opts Options) http.Handler {
	if opts.Refresh <= 0 {
		opts.Refresh = 5 * time.Second
	}
	opts.Refresh = max(opts.Refresh, time.Second)
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	h := &handler{m: m, opts: opts}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /status", h.status)
	mux.HandleFunc("GET /{$}", h.page)
	mux.HandleFunc("POST /override", h.authorized(h.override))
	mux.HandleFunc("POST /failback", h.authorized(h.failback))
	mux.HandleFunc("/status", methodNotAllowed("GET, HEAD"))
	mux.HandleFunc("/override", methodNotAllowed("POST"))
	mux.HandleFunc("/failback", methodNotAllowed("POST"))
	if opts.Pprof {
		mux.HandleFunc("GET /debug/pprof/", h.authorized(pprof.Index))
		mux.HandleFunc("GET /debug/pprof/cmdline", h.authorized(pprof.Cmdline))
		mux.HandleFunc("GET /debug/pprof/profile", h.authorized(pprof.Profile))
		mux.HandleFunc("GET /debug/pprof/symbol", h.authorized(pprof.Symbol))
		mux.HandleFunc("GET /debug/pprof/trace", h.authorized(pprof.Trace))
	}
	return secured(compressed(mux))
}

type handler struct {
	m    *failover.Manager
	opts Options
}

// secured sets the headers that keep a browser from sniffing the content
// type, framing the page, or loading anything but the page's own styles.
func secured(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		h.Set("Referrer-Policy", "no-referrer")
		next.ServeHTTP(w, r)
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

func writeError(w http.ResponseWriter, status int, format string, args ...any) {
	writeJSON(w, status, map[string]string{"error": fmt.Sprintf(format, args...)})
}

func (h *handler) status(w http.ResponseWriter, r *http.Request) {
	st := h.m.Status()
	f, err := parseFilter(r, st)
	if err != nil {
		writeError(w, filterStatus(err), "%v", err)
		return
	}
	writeJSON(w, http.StatusOK, f.apply(st))
}

// filterStatus is the HTTP status for a parseFilter error.
func filterStatus(err error) int {
	if errors.Is(err, errUnknownZone) {
		return http.StatusNotFound
	}
	return http.StatusBadRequest
}

// methodNotAllowed answers a known path asked with the wrong method.
func methodNotAllowed(allow string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", allow)
		writeError(w, http.StatusMethodNotAllowed, "%s %s: method not allowed; use %s", r.Method, r.URL.Path, allow)
	}
}

// authorized refuses requests without the right bearer token, and logs
// each refusal.
func (h *handler) authorized(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		scheme, got, ok := strings.Cut(r.Header.Get("Authorization"), " ")
		ok = ok && strings.EqualFold(scheme, "Bearer")
		refuse := func(status int, msg string) {
			h.opts.Logger.Warn("refused", "method", r.Method, "path", r.URL.Path, "status", status, "reason", msg, "client", r.RemoteAddr)
			writeError(w, status, "%s", msg)
		}
		switch {
		case h.opts.Token == "":
			refuse(http.StatusForbidden, "operator actions are disabled: no token is configured")
		case !ok:
			w.Header().Set("WWW-Authenticate", `Bearer realm="failover"`)
			refuse(http.StatusUnauthorized, "a bearer token is required")
		case subtle.ConstantTimeCompare([]byte(strings.TrimSpace(got)), []byte(h.opts.Token)) != 1:
			refuse(http.StatusForbidden, "wrong token")
		default:
			next(w, r)
		}
	}
}

// actionRequest is the body of the POST routes.
type actionRequest struct {
	Zone     string            `json:"zone"`
	Name     string            `json:"name"`
	Type     string            `json:"type"`
	Value    string            `json:"value"`
	Override failover.Override `json:"override"`
	For      string            `json:"for"`
}

func (req actionRequest) record() failover.RecordID {
	return failover.RecordID{Zone: req.Zone, Name: req.Name, Type: req.Type}
}

// decodeAction reads one JSON object, at most 64 KiB, and nothing after it.
func decodeAction(w http.ResponseWriter, r *http.Request) (actionRequest, bool) {
	var req actionRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10))
	dec.DisallowUnknownFields()
	err := dec.Decode(&req)
	if err == nil {
		if _, extra := dec.Token(); extra != io.EOF {
			err = errors.New("unexpected data after the JSON object")
		}
	}
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		writeError(w, http.StatusRequestEntityTooLarge, "request body: larger than %d bytes", tooLarge.Limit)
		return req, false
	case err != nil:
		writeError(w, http.StatusBadRequest, "request body: %v", err)
		return req, false
	}
	return req, true
}

// actionError answers an error from an operator method.
func actionError(w http.ResponseWriter, err error) {
	if errors.Is(err, failover.ErrUnknownRecord) || errors.Is(err, failover.ErrUnknownEndpoint) {
		writeError(w, http.StatusNotFound, "%v", err)
		return
	}
	if errors.Is(err, failover.ErrClusterStore) {
		writeError(w, http.StatusServiceUnavailable, "%v", err)
		return
	}
	writeError(w, http.StatusBadRequest, "%v", err)
}

func (h *handler) override(w http.ResponseWriter, r *http.Request) {
	req, ok := decodeAction(w, r)
	if !ok {
		return
	}
	var d time.Duration
	if req.For != "" {
		var err error
		if d, err = time.ParseDuration(req.For); err != nil || d <= 0 {
			writeError(w, http.StatusBadRequest, "for: %q is not a positive duration such as \"30m\" (leave it out for an override until cleared)", req.For)
			return
		}
	}
	err := h.m.SetOverride(req.record(), req.Value, req.Override, d)
	h.audit(r, err, "action", "override", "record", req.record().String(), "endpoint", req.Value,
		"override", req.Override.String(), "for", d.String())
	if err != nil {
		actionError(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (h *handler) failback(w http.ResponseWriter, r *http.Request) {
	req, ok := decodeAction(w, r)
	if !ok {
		return
	}
	err := h.m.Failback(req.record())
	h.audit(r, err, "action", "failback", "record", req.record().String())
	if err != nil {
		actionError(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// audit logs an operator action taken with the token, done or refused by
// the Manager, with the client's address.
func (h *handler) audit(r *http.Request, err error, args ...any) {
	args = append(args, "client", r.RemoteAddr)
	if err != nil {
		h.opts.Logger.Warn("operator action failed", append(args, "err", err)...)
		return
	}
	h.opts.Logger.Info("operator action", args...)
}
