package cloudflarefake

import (
	"net/http"
	"testing"
	"testing/synctest"
	"time"
)

// Cloudflare's documentation (https://developers.cloudflare.com/fundamentals/api/reference/limits/):
// "The global rate limit for the Cloudflare API is 1,200 requests per five
// minute period per user ... If you exceed this limit, all API calls for
// the next five minutes will be blocked, receiving a HTTP 429 response."
// A client that exceeds the limit is blocked for a whole window from the
// excess, not let through as soon as its oldest request leaves the window.
func TestRateLimitBlocksEveryCallForAWindowAfterAnExcess(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := New("tok", "example.com.")
		s.SetRateLimit(3, 5*time.Minute)
		start := time.Now()
		for _, tc := range []struct {
			at             time.Duration // since the first request
			wantStatus     int
			wantRetryAfter string
		}{
			{0, http.StatusOK, ""},
			{time.Second, http.StatusOK, ""},
			{2 * time.Second, http.StatusOK, ""},
			{4 * time.Minute, http.StatusTooManyRequests, "300"}, // the excess: blocked until 9 min
			{5*time.Minute + time.Second, http.StatusTooManyRequests, "239"},
			{9*time.Minute - time.Second, http.StatusTooManyRequests, "1"},
			{9 * time.Minute, http.StatusOK, ""}, // the block is over
			{9*time.Minute + time.Second, http.StatusOK, ""},
		} {
			time.Sleep(time.Until(start.Add(tc.at)))
			status, retryAfter := get(t, s)
			if status != tc.wantStatus || retryAfter != tc.wantRetryAfter {
				t.Fatalf("request at %v: got %d with Retry-After %q, want %d with %q", tc.at, status, retryAfter, tc.wantStatus, tc.wantRetryAfter)
			}
		}
	})
}

// get lists the zones and returns the status and Retry-After.
func get(t *testing.T, s *Server) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, s.URL+"/zones", nil)
	req.Header.Set("Authorization", "Bearer "+s.Token)
	resp, err := s.Transport().RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("Retry-After")
}
