package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dnsfailover/failover/internal/servertest"
	"github.com/libdns/libdns"
)

// owner: wraps every provider of every zone, dry runs included; a bad id
// is refused where it is written.
func TestOwnerSetting(t *testing.T) {
	zones := `
zones:
  - name: example.test.
    providers: [{type: rfc2136, server: "127.0.0.1:53", key_name: k, secret_env: FAILOVERD_TEST_SECRET}, {type: rfc2136, name: second, server: "127.0.0.2:53", key_name: k, secret_env: FAILOVERD_TEST_SECRET}]
    records: [{name: www, type: A, endpoints: [{value: 192.0.2.1}], check: {type: tcp, port: 80}}]
  - name: example.org.
    providers: [{type: rfc2136, server: "127.0.0.1:53", key_name: k, secret_env: FAILOVERD_TEST_SECRET}]
    records: [{name: www, type: A, endpoints: [{value: 192.0.2.1}], check: {type: tcp, port: 80}}]
`
	for _, tc := range []struct {
		name, head string
		wrapped    bool
		wantErr    string
	}{
		{"no owner", "", false, ""},
		{"owner", "owner: prod\n", true, ""},
		{"owner in a dry run", "owner: prod\ndry_run: true\n", true, ""},
		{"bad owner", `owner: "pr od"` + "\n", false, `f.yaml:1:8: owner: owner: owner id "pr od" has ' '`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lc, err := parse(context.Background(), "f.yaml", []byte(tc.head+zones), false)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("got %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, z := range lc.Zones {
				for i, p := range z.Providers {
					_, err := p.SetRecords(t.Context(), z.Name, []libdns.Record{libdns.TXT{Name: "_failover-owner-a.www", Text: "x"}})
					reserved := err != nil && strings.Contains(err.Error(), "reserved for owner records")
					if reserved != tc.wrapped {
						t.Errorf("zone %s provider %d: wrapped %v, want %v (write error %v)", z.Name, i, reserved, tc.wrapped, err)
					}
				}
			}
		})
	}
}

// Issue 14, test 7, with two failoverd processes: prod publishes www on
// BIND; staging, another deployment with other endpoints for www, never
// changes it and shows it quarantined in its /status; prod still fails
// over.
func TestOwnerTwoDaemonsOneZone(t *testing.T) {
	bind := servertest.StartBIND(t, "example.test.")
	var primaryDown atomic.Bool
	port := backends(t, &primaryDown)
	start := func(id, endpoints string) string {
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(freePort(t)))
		file := filepath.Join(t.TempDir(), id+".yaml")
		cfg := fmt.Sprintf("owner: %s\nstatus: {listen: %q}\nreconcile_interval: 300ms\nretry_backoff: 50ms\nmax_retry_backoff: 300ms\n", id, addr) +
			wwwZone(bind, "", endpoints, port, "ttl: 60s")
		if err := os.WriteFile(file, []byte(cfg), 0o600); err != nil {
			t.Fatal(err)
		}
		startDaemon(t, file, "FAILOVERD_TSIG="+bind.Key)
		return addr
	}
	start("prod", bothEndpoints)
	eventually(t, "prod publishes the primary", func() bool { return slices.Equal(answerA(bind.Addr, "www.example.test."), []string{"127.0.0.2"}) })

	staging := start("staging", "[{value: 127.0.0.3}]")
	eventually(t, "staging shows www quarantined, owned by prod", func() bool {
		st := getStatus(staging)
		if len(st.Zones) == 0 {
			return false
		}
		q := st.Zones[0].Providers[0].Quarantined
		return len(q) == 1 && q[0].Record == "www.example.test. A" && strings.Contains(q[0].Error, `owned by "prod", not by "staging"`)
	})
	time.Sleep(time.Second) // staging reconciles and retries meanwhile
	if got := answerA(bind.Addr, "www.example.test."); !slices.Equal(got, []string{"127.0.0.2"}) {
		t.Fatalf("BIND answers %v, want prod's 127.0.0.2", got)
	}
	if got := servertest.RRset(t, bind.Provider(), "example.test.", "_failover-owner-a.www", "TXT"); !slices.Equal(got, []string{"3600 failover-owner=prod,type=A"}) {
		t.Errorf("owner record %q, want prod's", got)
	}
	primaryDown.Store(true)
	eventually(t, "prod fails over", func() bool { return slices.Equal(answerA(bind.Addr, "www.example.test."), []string{"127.0.0.3"}) })
}
