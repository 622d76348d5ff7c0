package notify

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

// TestWebhookRedirectIsNotADelivery: a webhook URL that answers
// with a redirect (an http:// URL moved to https://, a renamed hook) is
// followed by net/http's default policy, which turns the POST of a 301 or
// 302 into a GET without a body. The notification never arrives, yet the
// delivery counts as a success: no retry, no Failure, nothing in
// failover_notifications_failed_total.
func TestWebhookRedirectIsNotADelivery(t *testing.T) {
	type request struct {
		method string
		body   int
	}
	var mu sync.Mutex
	var got []request
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, request{r.Method, len(b)})
		mu.Unlock()
	}))
	defer target.Close()
	for _, code := range []int{http.StatusMovedPermanently, http.StatusFound} {
		moved := httptest.NewServer(http.RedirectHandler(target.URL+"/hook", code))
		n, err := New(Webhook{URL: moved.URL + "/hook"})
		if err != nil {
			t.Fatal(err)
		}
		var failures []Failure
		n.OnFailure(func(f Failure) { mu.Lock(); failures = append(failures, f); mu.Unlock() })
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { n.Run(ctx); close(done) }()
		mu.Lock()
		got, failures = nil, nil
		mu.Unlock()
		n.Observe(failoverEvent)
		// Either the target gets the notification, or the delivery fails
		// (after its retries, 3.5 s).
		waitFor(t, "the redirect target reached or the delivery failed", func() bool {
			mu.Lock()
			defer mu.Unlock()
			return len(got) > 0 || len(failures) > 0
		})
		mu.Lock()
		var r request
		if len(got) > 0 {
			r = got[0]
		}
		nf := len(failures)
		mu.Unlock()
		if nf == 0 && (r.method != http.MethodPost || r.body == 0) {
			t.Errorf("webhook answering %d: the target got %s with a %d-byte body and the delivery counts as a success (Failed %d); want the POST with its payload delivered, or a failed delivery",
				code, r.method, r.body, n.Failed())
		}
		cancel()
		<-done
		moved.Close()
	}
}
