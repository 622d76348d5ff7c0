//go:build failing

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
// The fake lets requests through again as soon as the oldest request leaves
// the window, so a client that hammers the API past the limit is treated
// more kindly than the real API treats it.
func TestRateLimitBlocksEveryCallForFiveMinutesAfterAnExcess(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := New("tok", "example.com.")
		s.SetRateLimit(3, 5*time.Minute)
		for range 3 {
			if status, _, _ := do(t, s, http.MethodGet, "/zones", nil); status != http.StatusOK {
				t.Fatalf("request within the limit: got %d, want 200", status)
			}
		}
		time.Sleep(4 * time.Minute)
		if status, _, _ := do(t, s, http.MethodGet, "/zones", nil); status != http.StatusTooManyRequests {
			t.Fatalf("4th request in the window: got %d, want 429", status)
		}
		// 5 min 1 s after the first request: the window has moved on, but
		// the excess at 4 min blocks every call until 9 min.
		time.Sleep(time.Minute + time.Second)
		if status, _, _ := do(t, s, http.MethodGet, "/zones", nil); status != http.StatusTooManyRequests {
			t.Fatalf("1 min after exceeding the limit: got %d, want 429 (blocked for five minutes)", status)
		}
	})
}
