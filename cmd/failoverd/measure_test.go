package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dnsfailover/failover/internal/servertest"
)

// rssKiB reads the resident set size of process pid.
func rssKiB(t *testing.T, pid int) int {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(string(data)) {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			n, _ := strconv.Atoi(strings.Fields(rest)[0])
			return n
		}
	}
	return 0
}

// size fetches url and returns the bytes received, with or without gzip.
func size(t *testing.T, url string, gzip bool) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if gzip {
		req.Header.Set("Accept-Encoding", "gzip")
	}
	resp, err := (&http.Transport{DisableCompression: true}).RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	n, _ := io.Copy(io.Discard, resp.Body)
	return int(n)
}

// TestMeasureStatusAt2000Records is the measurement behind the figures of
// the status server at scale, run by hand (it takes a minute):
//
//	FAILOVERD_MEASURE=1 go test -run TestMeasureStatusAt2000Records -v ./cmd/failoverd
//
// with FAILOVERD_BIN=path to measure another build (one that predates the
// status server's bounds, say). It runs failoverd with 2,000 records
// against BIND, opens 10,000 idle connections to its status listener (half
// silent, half kept alive after one request), and reports the daemon's
// RSS and descriptors before, with them, and 20 s later, and the size of
// the page and of /status, plain and gzipped. It fails when the
// connections are still held after 20 s.
func TestMeasureStatusAt2000Records(t *testing.T) {
	if os.Getenv("FAILOVERD_MEASURE") == "" {
		t.Skip("a measurement: set FAILOVERD_MEASURE=1")
	}
	const records, conns = 2000, 10000
	var zone []string
	for i := range records {
		zone = append(zone, fmt.Sprintf("r%d 60 IN A 127.0.0.2", i))
	}
	bind := servertest.StartBIND(t, "example.test.", zone...)
	port := backends(t, nil)
	statusAddr := net.JoinHostPort("127.0.0.1", strconv.Itoa(freePort(t)))
	var b strings.Builder
	fmt.Fprintf(&b, `
status: {listen: %q}
checks:
  web: {type: tcp, port: %d}
zones:
  - name: example.test.
    providers:
      - {type: rfc2136, server: %q, key_name: %q, key_alg: %q, secret_env: FAILOVERD_TSIG}
    records:
`, statusAddr, port, bind.Addr, bind.KeyName, bind.KeyAlg)
	for i := range records {
		fmt.Fprintf(&b, "      - {name: r%d, type: A, endpoints: [{value: 127.0.0.2}, {value: 127.0.0.3, priority: 1}], check: web}\n", i)
	}
	file := filepath.Join(t.TempDir(), "failover.yaml")
	os.WriteFile(file, []byte(b.String()), 0o600)
	if bin := os.Getenv("FAILOVERD_BIN"); bin != "" {
		built.once.Do(func() { built.bin = bin })
	}
	d := startDaemon(t, file, "FAILOVERD_TSIG="+bind.Key)
	eventually(t, "decided", decided(statusAddr))
	pid := d.cmd.Process.Pid
	time.Sleep(2 * time.Second) // a measurement: let the start-up settle
	t.Logf("page: %d bytes, %d gzipped; /status: %d bytes, %d gzipped",
		size(t, "http://"+statusAddr+"/", false), size(t, "http://"+statusAddr+"/", true),
		size(t, "http://"+statusAddr+"/status", false), size(t, "http://"+statusAddr+"/status", true))
	report := func(when string) int {
		fds := openFDs(t, pid)
		t.Logf("%s: RSS %d MiB, %d descriptors", when, rssKiB(t, pid)/1024, fds)
		return fds
	}
	base := report("before")
	var open []net.Conn
	defer func() {
		for _, c := range open {
			c.Close()
		}
	}()
	for i := range conns {
		c, err := net.Dial("tcp", statusAddr)
		if err != nil {
			t.Fatalf("connection %d: %v", i, err)
		}
		open = append(open, c)
		if i%2 == 0 {
			io.WriteString(c, "GET /nothing HTTP/1.1\r\nHost: x\r\n\r\n")
		}
	}
	time.Sleep(2 * time.Second)
	report(fmt.Sprintf("with %d idle connections", conns))
	time.Sleep(20 * time.Second)
	if fds := report("20 s later"); fds > base+100 {
		t.Errorf("20 s later the daemon still holds %d descriptors more than before", fds-base)
	}
}
