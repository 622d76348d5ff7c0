package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
)

// persisted wraps the status API so that an operator action the Manager
// took (a POST answered 2xx) is written to the state file before it is
// answered. When the file cannot be written, the action stays in force
// (the Manager has it) but the answer is 507 Insufficient Storage with a
// JSON error naming the file and the cause: the operator learns that it
// will not survive a restart, and the client exits non-zero.
func persisted(h http.Handler, s *stateSaver) http.Handler {
	if s.path == "" {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			h.ServeHTTP(w, r)
			return
		}
		held := &heldResponse{header: w.Header()}
		h.ServeHTTP(held, r)
		if held.status/100 == 2 {
			if err := s.save(); err != nil {
				s.log.Error("operator state not saved", "err", err)
				hdr := w.Header()
				hdr.Del("Content-Encoding")
				hdr.Del("Content-Length")
				hdr.Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusInsufficientStorage)
				json.NewEncoder(w).Encode(map[string]string{"error": fmt.Sprintf(
					"the action is in force but NOT saved: it will not survive a restart of failoverd: %v", err)})
				return
			}
		}
		w.WriteHeader(held.status)
		w.Write(held.body.Bytes())
	})
}

// heldResponse keeps a handler's status and body until persisted knows
// whether the action was saved; its header is the real response's.
type heldResponse struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (h *heldResponse) Header() http.Header { return h.header }

func (h *heldResponse) WriteHeader(status int) {
	if h.status == 0 {
		h.status = status
	}
}

func (h *heldResponse) Write(b []byte) (int, error) {
	h.WriteHeader(http.StatusOK)
	return h.body.Write(b)
}
