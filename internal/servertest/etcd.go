package servertest

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// EtcdVersion is the etcd release the tests run. The nested module in
// internal/servertest/etcdserver (its own go.mod, so the server stays out of
// the library's dependencies) pins the same version as a tool; a test
// checks that the two agree.
const EtcdVersion = "v3.7.3"

// EtcdEnv names an etcd binary to run instead of the one built from the
// nested module (any etcd 3.5 or later serves the v3 API the tests use).
const EtcdEnv = "FAILOVER_ETCD"

// EtcdBinaryPath is where the etcd binary built from the nested module is
// cached: $XDG_CACHE_HOME (or ~/.cache)/dnsfailover/etcd-VERSION/etcd.
// `make deps` builds it there with
//
//	go build -C internal/servertest/etcdserver -o PATH go.etcd.io/etcd/server/v3
//
// and StartEtcd does the same when it is missing (a few seconds with a
// warm module cache, about half a minute without one).
func EtcdBinaryPath() (string, error) {
	dir, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "dnsfailover", "etcd-"+EtcdVersion, "etcd"), nil
}

// etcdBinary returns the etcd to run, building it into the cache when it
// is missing, or skips (or fails) the test when that cannot be done.
func etcdBinary(t testing.TB) string {
	t.Helper()
	if path := os.Getenv(EtcdEnv); path != "" {
		return path
	}
	path, err := EtcdBinaryPath()
	if err == nil {
		if _, err = os.Stat(path); err != nil {
			err = buildEtcd(path)
		}
	}
	if err != nil {
		msg := fmt.Sprintf("etcd %s could not be built (set %s to an etcd binary, or run `make deps`): %v", EtcdVersion, EtcdEnv, err)
		if os.Getenv(RequireEnv) == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return path
}

// buildEtcd builds etcd from the nested module into path. Test binaries of
// several packages may build at once: a lock file serialises them, and the
// binary is renamed into place only once complete.
func buildEtcd(path string) error {
	_, self, _, ok := runtime.Caller(0)
	if !ok {
		return errors.New("cannot locate the servertest sources")
	}
	module := filepath.Join(filepath.Dir(self), "etcdserver")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	lock, err := os.OpenFile(path+".lock", os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return err
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return err
	}
	if _, err := os.Stat(path); err == nil {
		return nil // built by another test binary while this one waited
	}
	gobin, err := exec.LookPath("go")
	if err != nil {
		return err
	}
	tmp := fmt.Sprintf("%s.%d", path, os.Getpid())
	cmd := exec.Command(gobin, "build", "-C", module, "-o", tmp, "go.etcd.io/etcd/server/v3")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build in %s: %v\n%s", module, err, out)
	}
	return os.Rename(tmp, path)
}

// EtcdCluster is a cluster of separate etcd processes on loopback, each
// with its own data directory and free ports, stopped when the test ends.
type EtcdCluster struct {
	Members []*EtcdMember
}

// EtcdMember is one etcd process of an EtcdCluster.
type EtcdMember struct {
	Name      string
	ClientURL string // http://127.0.0.1:PORT: the v3 API, /health and /metrics
	PeerURL   string // http://127.0.0.1:PORT
	proc      *process
}

// StartEtcd starts a cluster of n etcd members (1 or 3, usually), waits
// until every member reports itself healthy, and stops them all when the
// test ends. Elections are tuned for loopback (heartbeat 50 ms, election
// timeout 500 ms), so that a lost member is noticed within a second.
func StartEtcd(t testing.TB, n int) *EtcdCluster {
	t.Helper()
	return StartEtcdElection(t, n, 500*time.Millisecond)
}

// StartEtcdElection is StartEtcd with the members' election timeout set to
// election and their heartbeat interval to a tenth of it. etcd raises
// every lease TTL below 1.5 × election timeout, rounded up to whole
// seconds: under etcd's defaults (a second), a TTL of 1 s is granted as
// 2 s; under StartEtcd's, none is raised.
func StartEtcdElection(t testing.TB, n int, election time.Duration) *EtcdCluster {
	t.Helper()
	bin := etcdBinary(t)
	c := &EtcdCluster{}
	var initial []string
	for i := range n {
		m := &EtcdMember{
			Name:      fmt.Sprintf("etcd%d", i),
			ClientURL: "http://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(freePort(t))),
			PeerURL:   "http://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(freePort(t))),
		}
		initial = append(initial, m.Name+"="+m.PeerURL)
		c.Members = append(c.Members, m)
	}
	token := make([]byte, 8)
	rand.Read(token)
	for _, m := range c.Members {
		m.proc = &process{name: bin, args: []string{
			"--name", m.Name,
			"--data-dir", t.TempDir(),
			"--listen-client-urls", m.ClientURL, "--advertise-client-urls", m.ClientURL,
			"--listen-peer-urls", m.PeerURL, "--initial-advertise-peer-urls", m.PeerURL,
			"--initial-cluster", strings.Join(initial, ","),
			"--initial-cluster-state", "new",
			"--initial-cluster-token", hex.EncodeToString(token),
			"--heartbeat-interval", strconv.FormatInt(election.Milliseconds()/10, 10),
			"--election-timeout", strconv.FormatInt(election.Milliseconds(), 10),
			"--log-level", "error",
			"--unsafe-no-fsync", // the data need not survive the machine, only the process
		}}
		m.proc.start(t)
		t.Cleanup(func() { m.Stop(false) })
	}
	c.WaitHealthy(t)
	return c
}

// Endpoints returns the client URLs of every member, for clientv3.Config.
func (c *EtcdCluster) Endpoints() []string {
	var eps []string
	for _, m := range c.Members {
		eps = append(eps, m.ClientURL)
	}
	return eps
}

// WaitHealthy waits until every running member reports itself healthy (it
// has a leader and serves reads), failing the test after 30 s.
func (c *EtcdCluster) WaitHealthy(t testing.TB) {
	t.Helper()
	for _, m := range c.Members {
		if !m.proc.exited() {
			m.waitHealthy(t, 30*time.Second)
		}
	}
}

// Healthy reports whether the member answers /health with a leader and no
// alarm, asking for at most a second.
func (m *EtcdMember) Healthy() bool {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, m.ClientURL+"/health", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	body, _ := bufio.NewReader(resp.Body).ReadString('}')
	return resp.StatusCode == http.StatusOK && strings.Contains(body, `"health":"true"`)
}

func (m *EtcdMember) waitHealthy(t testing.TB, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !m.Healthy() {
		if m.proc.exited() || time.Now().After(deadline) {
			t.Fatalf("etcd member %s at %s is not healthy:\n%s", m.Name, m.ClientURL, m.proc.output())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Stop stops the member: with SIGTERM, or with SIGKILL when kill is set, as
// a crash would. A paused member is resumed first, so that it can exit.
// Stopping a stopped member does nothing.
func (m *EtcdMember) Stop(kill bool) {
	m.proc.signal(syscall.SIGCONT)
	m.proc.stop(kill)
}

// Start starts a stopped member again with the data it had, so that it
// rejoins its cluster. It does not wait for the member to be healthy (a
// member alone cannot be): use WaitHealthy for that.
func (m *EtcdMember) Start(t testing.TB) {
	t.Helper()
	args := m.proc.args
	for i, a := range args {
		if a == "--initial-cluster-state" {
			args[i+1] = "existing"
		}
	}
	m.proc.start(t)
}

// Pause freezes the member with SIGSTOP: it holds its ports but answers
// nothing, as a hung host would. Resume undoes it.
// It returns once every thread of the process is stopped (signals are
// delivered asynchronously: a thread running on another core could still
// answer a request for a moment), or after 5 s.
func (m *EtcdMember) Pause() {
	m.proc.signal(syscall.SIGSTOP)
	m.proc.waitStopped(5 * time.Second)
}

// Resume continues a paused member with SIGCONT.
func (m *EtcdMember) Resume() { m.proc.signal(syscall.SIGCONT) }

// Metric returns the sum of every sample of the Prometheus metric name
// (such as "etcd_server_proposals_committed_total") on the member's
// /metrics page.
func (m *EtcdMember) Metric(t testing.TB, name string) float64 {
	t.Helper()
	resp, err := http.Get(m.ClientURL + "/metrics")
	if err != nil {
		t.Fatalf("etcd member %s: reading metrics: %v", m.Name, err)
	}
	defer resp.Body.Close()
	var sum float64
	found := false
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		rest, ok := strings.CutPrefix(line, name)
		if !ok || (rest != "" && rest[0] != ' ' && rest[0] != '{') {
			continue
		}
		v, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
		if err != nil {
			t.Fatalf("etcd member %s: metric line %q: %v", m.Name, line, err)
		}
		sum, found = sum+v, true
	}
	if !found {
		t.Fatalf("etcd member %s: no metric %s", m.Name, name)
	}
	return sum
}
