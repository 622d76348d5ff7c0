package cloudflare

import (
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// retryClient sends requests within the rate limit, and retries them
// after a 429, or a 5xx for methods that are safe to repeat. After a 429
// it sends nothing until the server's Retry-After has passed: Cloudflare
// blocks every call for 5 minutes after an excess, and a request in the
// block only meets another 429.
type retryClient struct {
	client     *http.Client
	maxRetries int
	maxWait    time.Duration
	limit      *windowLimiter // nil: no limit

	mu      sync.Mutex
	blocked time.Time // no request is sent before then
}

// Do sends req, retrying as the package doc says.
func (c *retryClient) Do(req *http.Request) (*http.Response, error) {
	for attempt := 0; ; attempt++ {
		if err := c.waitBlock(req); err != nil {
			return nil, err
		}
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
		if err != nil || !retryable(req.Method, resp.StatusCode) {
			return resp, err
		}
		wait := backoff(attempt, resp.Header.Get("Retry-After"), c.maxWait)
		if resp.StatusCode == http.StatusTooManyRequests {
			wait = c.block(resp.Header.Get("Retry-After"), wait)
		}
		if attempt >= c.maxRetries || wait > c.maxWait {
			return resp, nil
		}
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

// block holds every request until the server's Retry-After (seconds or
// an HTTP date) has passed, or for fallback when it gives none, and
// returns how long that is from now.
func (c *retryClient) block(retryAfter string, fallback time.Duration) time.Duration {
	wait, ok := parseRetryAfter(retryAfter)
	if !ok {
		wait = fallback
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.blocked = later(c.blocked, time.Now().Add(wait))
	return time.Until(c.blocked)
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// waitBlock waits for the end of a block the server imposed, when it ends
// within MaxRetryWait, and otherwise fails at once: no request is sent
// that the server would refuse.
func (c *retryClient) waitBlock(req *http.Request) error {
	c.mu.Lock()
	wait := time.Until(c.blocked)
	until := c.blocked
	c.mu.Unlock()
	if wait <= 0 {
		return nil
	}
	if wait > c.maxWait {
		return &BlockedError{Until: until}
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-req.Context().Done():
		return req.Context().Err()
	case <-t.C:
		return nil
	}
}

// BlockedError is returned, without a request being sent, while the API
// has blocked this provider's requests (a 429 with a Retry-After longer
// than MaxRetryWait; Cloudflare blocks every call for 5 minutes after its
// rate limit is exceeded). Find it with errors.As.
type BlockedError struct {
	Until time.Time // when the API takes requests again
}

// Error says until when requests are held.
func (e *BlockedError) Error() string {
	return fmt.Sprintf("rate limited by the API (HTTP 429): no request sent until %s (%s from now)",
		e.Until.Format(time.RFC3339), time.Until(e.Until).Round(time.Second))
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
// Retry-After when given, else 0.5 s doubling with jitter; never more than
// limit.
func backoff(attempt int, retryAfter string, limit time.Duration) time.Duration {
	if d, ok := parseRetryAfter(retryAfter); ok {
		return min(d, limit)
	}
	d := 500 * time.Millisecond << min(attempt, 10)
	return min(d/2+rand.N(d/2+1), limit)
}

// parseRetryAfter returns the wait a Retry-After header asks for, in
// seconds or as an HTTP date, and whether it holds one.
func parseRetryAfter(h string) (time.Duration, bool) {
	if s, err := strconv.Atoi(strings.TrimSpace(h)); err == nil && s >= 0 {
		return time.Duration(s) * time.Second, true
	}
	if t, err := http.ParseTime(h); err == nil {
		return max(time.Until(t), 0), true
	}
	return 0, false
}
