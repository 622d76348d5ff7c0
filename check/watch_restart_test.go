package check

import (
	"context"
	"net"
	"sync"
	"syscall"
	"testing"
	"testing/synctest"
	"time"
)

// restartingServer is a server that can be killed (its connections closed
// by its kernel, new ones refused) and started again, reached through
// in-memory connections so that the test runs on synctest's clock.
type restartingServer struct {
	mu    sync.Mutex
	up    bool
	dying int         // connections still accepted after a kill, and closed at once (in the backlog as the listener closed)
	conns []net.Conn  // server ends of the connections accepted
	dials []time.Time // when each connection was accepted
}

func (s *restartingServer) dial(context.Context) (net.Conn, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.dying > 0 {
		s.dying--
		client, server := net.Pipe()
		server.Close()
		return client, nil
	}
	if !s.up {
		return nil, syscall.ECONNREFUSED
	}
	client, server := net.Pipe()
	s.conns = append(s.conns, server)
	s.dials = append(s.dials, time.Now())
	return client, nil
}

func (s *restartingServer) kill() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.up = false
	for _, c := range s.conns {
		c.Close()
	}
	s.conns = nil
}

func (s *restartingServer) start() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.up = true
}

// connectedSince returns how long after t the first connection after t
// was accepted, and whether there was one.
func (s *restartingServer) connectedSince(t time.Time) (time.Duration, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, d := range s.dials {
		if !d.Before(t) {
			return d.Sub(t), true
		}
	}
	return 0, false
}

// A backend killed and restarted again and again (a deploy, a crash loop)
// is watched again within a short wait of each restart: a connection that
// lived resets the reconnect backoff, so that the watcher is not, after a
// few restarts, reconnecting only every 5 s and missing the next kill.
// (Before the fix, the wait doubled at every kill: 170 ms after the third
// restart, 5 s after the seventh.)
func TestWatcherReconnectsPromptlyAfterEachRestart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		srv := &restartingServer{up: true}
		var mu sync.Mutex
		notices := 0
		done := make(chan struct{})
		go func() {
			defer close(done)
			watchDialed(ctx, "backend:80", srv.dial, func(error) { mu.Lock(); notices++; mu.Unlock() })
		}()
		time.Sleep(2 * minConnLife)
		const restarts = 8
		for i := range restarts {
			srv.kill()
			time.Sleep(30 * time.Millisecond)
			srv.start()
			restarted := time.Now()
			time.Sleep(2 * minConnLife)
			after, ok := srv.connectedSince(restarted)
			if !ok || after > 2*50*time.Millisecond {
				t.Fatalf("restart %d: watcher connected %v after it (connected: %v), want within 100 ms", i+1, after, ok)
			}
		}
		cancel()
		<-done
		if notices != restarts {
			t.Errorf("got %d notices, want one per kill (%d)", notices, restarts)
		}
	})
}

// A backend killed less than a second after the watcher connected, whose
// kernel still completes one more connection and resets it (it was in the
// backlog as the listener closed), is noticed: the refused dial that
// follows two short connections is news, as after any lost connection.
// (Before the fix: no notice, found by TestWatchingNoticesAKilledBackend
// failing about one run in ten.)
func TestWatcherNoticesAServerKilledRightAfterItConnected(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		srv := &restartingServer{up: true}
		noticed := make(chan time.Time, 10)
		done := make(chan struct{})
		go func() {
			defer close(done)
			watchDialed(ctx, "backend:80", srv.dial, func(error) { noticed <- time.Now() })
		}()
		time.Sleep(minConnLife / 2)
		srv.kill()
		srv.mu.Lock()
		srv.dying = 1
		srv.mu.Unlock()
		killed := time.Now()
		time.Sleep(10 * time.Second)
		cancel()
		<-done
		close(noticed)
		var got []time.Duration
		for at := range noticed {
			got = append(got, at.Sub(killed))
		}
		if len(got) != 1 || got[0] > 100*time.Millisecond {
			t.Fatalf("notices at %v after the kill, want one within 100 ms", got)
		}
	})
}
