package cloudflare

import (
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// retryClient sends requests within the rate limit, and retries them
// after a 429, or a 5xx for methods that are safe to repeat.
type retryClient struct {
	client     *http.Client
	maxRetries int
	maxWait    time.Duration
	limit      *windowLimiter // nil: no limit
}

// Do sends req, retrying as the package doc says.
func (c *retryClient) Do(req *http.Request) (*http.Response, error) {
	for attempt := 0; ; attempt++ {
		r := req
		if attempt > 0 && req.GetBody != nil {
			body, err := req.GetBody()
			if err != nil {
				return nil, err
			}
			r = req.Clone(req.Context())
			r.Body = body
		}
		if c.limit != nil {
			if err := c.limit.wait(req.Context()); err != nil {
				return nil, err
			}
		}
		resp, err := c.client.Do(r)
		if err != nil || attempt >= c.maxRetries || !retryable(req.Method, resp.StatusCode) {
			return resp, err
		}
		wait := backoff(attempt, resp.Header.Get("Retry-After"), c.maxWait)
		io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		t := time.NewTimer(wait)
		select {
		case <-req.Context().Done():
			t.Stop()
			return nil, req.Context().Err()
		case <-t.C:
		}
	}
}

// retryable reports whether a response with status to a method may be
// retried: 429 always (the request was not processed), 5xx only when
// repeating the request cannot apply it twice.
func retryable(method string, status int) bool {
	switch {
	case status == http.StatusTooManyRequests:
		return true
	case status >= 500:
		return method != http.MethodPost
	}
	return false
}

// backoff returns how long to wait before retry attempt+1: the server's
// Retry-After (seconds or an HTTP date) when given, else 0.5 s doubling
// with jitter; never more than limit.
func backoff(attempt int, retryAfter string, limit time.Duration) time.Duration {
	if s, err := strconv.Atoi(strings.TrimSpace(retryAfter)); err == nil && s >= 0 {
		return min(time.Duration(s)*time.Second, limit)
	}
	if t, err := http.ParseTime(retryAfter); err == nil {
		return min(max(time.Until(t), 0), limit)
	}
	d := 500 * time.Millisecond << min(attempt, 10)
	return min(d/2+rand.N(d/2+1), limit)
}
