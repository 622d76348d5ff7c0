package httpapi

import (
	"compress/gzip"
	"net/http"
	"strconv"
	"strings"
	"sync"
)

var gzipWriters = sync.Pool{New: func() any { return gzip.NewWriter(nil) }}

// compressed answers with gzip when the client accepts it. The pages at
// thousands of records are mostly repeated markup and compress about
// tenfold.
func compressed(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("Vary", "Accept-Encoding")
		if !acceptsGzip(r.Header.Get("Accept-Encoding")) {
			next.ServeHTTP(w, r)
			return
		}
		gz := gzipWriters.Get().(*gzip.Writer)
		defer gzipWriters.Put(gz)
		gz.Reset(w)
		gw := &gzipResponse{ResponseWriter: w, gz: gz}
		next.ServeHTTP(gw, r)
		if gw.started {
			gz.Close()
		}
	})
}

// acceptsGzip reports whether an Accept-Encoding header allows gzip.
func acceptsGzip(header string) bool {
	for part := range strings.SplitSeq(header, ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if !strings.EqualFold(strings.TrimSpace(coding), "gzip") {
			continue
		}
		for param := range strings.SplitSeq(params, ";") {
			name, value, _ := strings.Cut(param, "=")
			if strings.EqualFold(strings.TrimSpace(name), "q") {
				q, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
				return err == nil && q > 0
			}
		}
		return true
	}
	return false
}

// gzipResponse compresses what a handler writes, unless the response has
// no body (204, 304) or is already encoded.
type gzipResponse struct {
	http.ResponseWriter
	gz      *gzip.Writer
	started bool // the header is written and the body goes through gz
	plain   bool // the header is written and the body goes out as is
}

func (g *gzipResponse) WriteHeader(status int) {
	if g.started || g.plain {
		return
	}
	h := g.Header()
	if status == http.StatusNoContent || status == http.StatusNotModified || h.Get("Content-Encoding") != "" {
		g.plain = true
	} else {
		g.started = true
		h.Set("Content-Encoding", "gzip")
		h.Del("Content-Length")
	}
	g.ResponseWriter.WriteHeader(status)
}

func (g *gzipResponse) Write(b []byte) (int, error) {
	g.WriteHeader(http.StatusOK)
	if g.plain {
		return g.ResponseWriter.Write(b)
	}
	return g.gz.Write(b)
}

// Flush sends what is compressed so far, for handlers that stream
// (pprof's trace and profile).
func (g *gzipResponse) Flush() {
	if g.started {
		g.gz.Flush()
	}
	if f, ok := g.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}
