package check

import (
	"context"
	"strings"
	"testing"
	"time"
)

// icmpAllowed reports whether this process can open an ICMP socket, and
// why not.
func icmpAllowed() error {
	conn, _, err := openICMP(icmpSockets4)
	if err == nil {
		conn.Close()
	}
	return err
}

func TestICMPCheck(t *testing.T) {
	if err := icmpAllowed(); err != nil {
		t.Skipf("ICMP sockets are not allowed here: %v", err)
	}
	if err := (&ICMP{Count: 3}).Check(t.Context(), "127.0.0.1"); err != nil {
		t.Fatalf("ping 127.0.0.1: %v", err)
	}
	if err := (&ICMP{Count: 2}).Check(t.Context(), "localhost"); err != nil {
		t.Fatalf("ping localhost by name: %v", err)
	}
	if _, _, err := openICMP(icmpSockets6); err == nil {
		if err := (&ICMP{Count: 2}).Check(t.Context(), "::1"); err != nil {
			t.Fatalf("ping ::1: %v", err)
		}
	}

	// Concurrent checks share no socket state: each sees only its replies.
	errs := make(chan error, 8)
	for range 8 {
		go func() {
			errs <- (&ICMP{Count: 3, Interval: 10 * time.Millisecond}).Check(t.Context(), "127.0.0.1")
		}()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Fatalf("concurrent ping: %v", err)
		}
	}
}

func TestICMPCheckLoss(t *testing.T) {
	if err := icmpAllowed(); err != nil {
		t.Skipf("ICMP sockets are not allowed here: %v", err)
	}
	// 203.0.113.1 (TEST-NET-3) is routed nowhere: nothing answers.
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	err := (&ICMP{Count: 2}).Check(ctx, "203.0.113.1")
	if err == nil || !(strings.Contains(err.Error(), "2 of 2 echo requests lost") || strings.Contains(err.Error(), "unreachable")) {
		t.Fatalf("got %v, want every request lost (or the network unreachable)", err)
	}
}

func TestICMPCheckSaysWhatIsMissing(t *testing.T) {
	_, _, err := openICMP([]icmpSocket{{"udp4", "203.0.113.1", false}, {"ip4:icmp", "203.0.113.1", true}})
	if err == nil {
		t.Fatal("sockets on an address this host does not have: got nil error")
	}
	for _, want := range []string{"net.ipv4.ping_group_range", "CAP_NET_RAW", "udp4:", "ip4:icmp:"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("got %q, want it to mention %q", err, want)
		}
	}
	if err := (&ICMP{}).Check(t.Context(), "no-such-host.invalid"); err == nil {
		t.Fatal("unresolvable name: got nil error")
	}
}
