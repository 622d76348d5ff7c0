// Package httpapi serves a Manager's status and operator actions over
// HTTP: the Status as JSON, a self-refreshing HTML page, and drain, force
// and failback behind a bearer token. Mount it in any Go service:
//
//	http.Handle("/failover/", http.StripPrefix("/failover", httpapi.New(m, httpapi.Options{Token: token})))
package httpapi

import (
	"crypto/subtle"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"strings"
	"time"

	"github.com/dnsfailover/failover"
)

// Options configure New.
type Options struct {
	// Token is the bearer token the operator actions require
	// ("Authorization: Bearer TOKEN"). Empty means the actions are
	// refused: they are never open.
	Token string
	// Refresh is how often the HTML page reloads itself. Zero means 5 s.
	Refresh time.Duration
}

// New returns an http.Handler for m's status and operator actions:
//
//	GET  /status    the Status, as JSON
//	GET  /          the same as an HTML page that refreshes itself
//	POST /override  {"zone","name","type","value","override","for"}: force an
//	                endpoint up ("force-up"), down ("force-down", drain) or
//	                clear it ("none"), "for" a duration such as "30m" (empty:
//	                until cleared)
//	POST /failback  {"zone","name","type"}: fail a record back now
//
// The POST routes need the bearer token of opts. Errors are JSON
// {"error": "..."} with a fitting status. It is safe for concurrent use.
func New(m *failover.Manager, opts Options) http.Handler {
	if opts.Refresh <= 0 {
		opts.Refresh = 5 * time.Second
	}
	h := &handler{m: m, opts: opts}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /status", h.status)
	mux.HandleFunc("GET /{$}", h.page)
	mux.HandleFunc("POST /override", h.authorized(h.override))
	mux.HandleFunc("POST /failback", h.authorized(h.failback))
	return mux
}

type handler struct {
	m    *failover.Manager
	opts Options
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
	writeJSON(w, http.StatusOK, h.m.Status())
}

// authorized refuses requests without the right bearer token.
func (h *handler) authorized(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		switch {
		case h.opts.Token == "":
			writeError(w, http.StatusForbidden, "operator actions are disabled: no token is configured")
		case !ok:
			w.Header().Set("WWW-Authenticate", `Bearer realm="failover"`)
			writeError(w, http.StatusUnauthorized, "a bearer token is required")
		case subtle.ConstantTimeCompare([]byte(got), []byte(h.opts.Token)) != 1:
			writeError(w, http.StatusForbidden, "wrong token")
		default:
			next(w, r)
		}
	}
}

// actionRequest is the body of the POST routes.
type actionRequest struct {
	Zone     string `json:"zone"`
	Name     string `json:"name"`
	Type     string `json:"type"`
	Value    string `json:"value"`
	Override string `json:"override"`
	For      string `json:"for"`
}

func decodeAction(w http.ResponseWriter, r *http.Request) (actionRequest, bool) {
	var req actionRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
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
	writeError(w, http.StatusBadRequest, "%v", err)
}

func (h *handler) override(w http.ResponseWriter, r *http.Request) {
	req, ok := decodeAction(w, r)
	if !ok {
		return
	}
	var o failover.Override
	if req.Override != "" {
		if err := o.UnmarshalText([]byte(req.Override)); err != nil {
			writeError(w, http.StatusBadRequest, "override: %v", err)
			return
		}
	}
	var d time.Duration
	if req.For != "" {
		var err error
		if d, err = time.ParseDuration(req.For); err != nil || d < 0 {
			writeError(w, http.StatusBadRequest, "for: %q is not a positive duration such as \"30m\"", req.For)
			return
		}
	}
	if err := h.m.SetOverride(failover.RecordID{Zone: req.Zone, Name: req.Name, Type: req.Type}, req.Value, o, d); err != nil {
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
	if err := h.m.Failback(failover.RecordID{Zone: req.Zone, Name: req.Name, Type: req.Type}); err != nil {
		actionError(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

//go:embed status.html
var statusHTML string

var statusPage = template.Must(template.New("status").Funcs(template.FuncMap{
	"ago": func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return time.Since(t).Round(time.Second).String() + " ago"
	},
	"in": func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		if d := time.Until(t); d > 0 {
			return "in " + d.Round(time.Second).String()
		}
		return "done"
	},
	"join": func(v []string) string { return strings.Join(v, ", ") },
}).Parse(statusHTML))

func (h *handler) page(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	statusPage.Execute(w, struct {
		Status  failover.Status
		Refresh int
		Now     time.Time
	}{h.m.Status(), int(h.opts.Refresh / time.Second), time.Now()})
}
