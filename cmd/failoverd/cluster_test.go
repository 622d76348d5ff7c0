package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dnsfailover/failover"
	"github.com/dnsfailover/failover/internal/servertest"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// clusterYAML is goodYAML with a cluster: section and a provider timeout
// below its lease.
const clusterYAML = goodYAML + `
provider_timeout: 2s
cluster:
  endpoints: [127.0.0.1:2379, "https://127.0.0.2:2379"]
  instance: a
  prefix: /dns/
  lease_ttl: 4s
  username: failoverd
  password_env: FAILOVERD_TEST_ETCD_PASSWORD
  quorum: {down_at_least: 2}
`

// The cluster: section arrives in etcd.Options, the client settings and
// the Manager's Quorum.
func TestClusterSettings(t *testing.T) {
	t.Setenv("FAILOVERD_TEST_SECRET", "c2VjcmV0")
	t.Setenv("FAILOVERD_TEST_ETCD_PASSWORD", "pw")
	lc := loadFile(t, clusterYAML)
	c := lc.Cluster
	if c == nil {
		t.Fatal("got no cluster settings")
	}
	got := []any{c.Endpoints, c.Instance, c.Prefix, c.LeaseTTL, c.Username, c.Password, lc.Config.Quorum}
	want := []any{[]string{"127.0.0.1:2379", "https://127.0.0.2:2379"}, "a", "/dns/", 4 * time.Second, "failoverd", "pw", failover.Quorum{DownAtLeast: 2}}
	for i := range got {
		if !equalValues(got[i], want[i]) {
			t.Errorf("setting %d: got %v, want %v", i, got[i], want[i])
		}
	}

	// Without instance:, the host name.
	lc = loadFile(t, strings.Replace(clusterYAML, "  instance: a\n", "", 1))
	if host, _ := os.Hostname(); lc.Cluster.Instance != host {
		t.Errorf("instance: got %q, want the host name %q", lc.Cluster.Instance, host)
	}
}

func equalValues(a, b any) bool {
	as, aok := a.([]string)
	bs, bok := b.([]string)
	if aok && bok {
		return strings.Join(as, ",") == strings.Join(bs, ",")
	}
	return a == b
}

// loadFile is loadString returning what was loaded.
func loadFile(t *testing.T, text string) *loaded {
	t.Helper()
	file := t.TempDir() + "/failover.yaml"
	if err := os.WriteFile(file, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	lc, err := load(context.Background(), file, true)
	if err != nil {
		t.Fatal(err)
	}
	return lc
}

// Each mistake in cluster: is reported at its line and column, with the
// field's path, including the library's own findings (the lease against
// the provider timeout, the quorum's rules).
func TestClusterErrors(t *testing.T) {
	t.Setenv("FAILOVERD_TEST_SECRET", "c2VjcmV0")
	t.Setenv("FAILOVERD_TEST_ETCD_PASSWORD", "pw")
	for _, tc := range []struct {
		name    string
		replace [2]string
		want    string
	}{
		{"no endpoints", [2]string{"  endpoints: [127.0.0.1:2379, \"https://127.0.0.2:2379\"]\n", ""}, ":20:3: cluster.endpoints: missing"},
		{"endpoint without port", [2]string{"127.0.0.1:2379,", "127.0.0.1,"}, `:20:15: cluster.endpoints[0]: "127.0.0.1" has no port`},
		{"endpoint not a URL", [2]string{`"https://127.0.0.2:2379"`, `"ftp://x:1"`}, `:20:31: cluster.endpoints[1]: "ftp://x:1" is not an etcd client URL`},
		{"cert without key", [2]string{"  username:", "  cert_file: c.pem\n  username:"}, ":24:14: cluster.cert_file: cert_file and key_file go together"},
		{"lease not above provider timeout", [2]string{"provider_timeout: 2s", "provider_timeout: 4s"}, ":20:3: cluster: lease TTL 4s is not above ProviderTimeout 4s"},
		{"lease not whole seconds", [2]string{"lease_ttl: 4s", "lease_ttl: 2500ms"}, ":20:3: cluster: etcd cluster: LeaseTTL 2.5s must be a whole number of seconds"},
		{"instance with a slash", [2]string{"instance: a", "instance: a/b"}, `:20:3: cluster: etcd cluster: Instance "a/b" must be a non-empty name without a slash`},
		{"negative quorum", [2]string{"down_at_least: 2", "down_at_least: -1"}, ":26:27: cluster.quorum.down_at_least: must not be negative"},
		{"two quorum rules", [2]string{"down_at_least: 2", "down_at_least: 2, healthy_above_percent: 18"}, ":26:27: cluster.quorum.down_at_least: set together with HealthyAbovePercent"},
		{"unknown key", [2]string{"prefix: /dns/", "prefixx: /dns/"}, ":22:3: cluster.prefixx: unknown field"},
		{"unset password", [2]string{"FAILOVERD_TEST_ETCD_PASSWORD", "FAILOVERD_NOT_SET"}, ":25:17: cluster.password_env: environment variable FAILOVERD_NOT_SET is empty or unset"},
		{"username without password", [2]string{"  password_env: FAILOVERD_TEST_ETCD_PASSWORD\n", ""}, ":24:13: cluster.username: username without a password: give password_env"},
		{"password without username", [2]string{"  username: failoverd\n", ""}, ":24:17: cluster.password_env: a password without username"},
		{"password file without username", [2]string{"  username: failoverd\n  password_env: FAILOVERD_TEST_ETCD_PASSWORD\n", "  password_file: /nonexistent\n"}, "cluster.password_file: a password without username"},
		{"password inline", [2]string{"password_env: FAILOVERD_TEST_ETCD_PASSWORD", "password: pw"}, ":25:3: cluster.password: unknown field"},
		{"state file beside it", [2]string{"provider_timeout: 2s", "provider_timeout: 2s\nstate_file: /tmp/state.json"}, ":19:13: state_file: not with cluster: the operators' state is kept in etcd"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			text := strings.Replace(clusterYAML, tc.replace[0], tc.replace[1], 1)
			if text == clusterYAML {
				t.Fatalf("%q is not in the file", tc.replace[0])
			}
			err := loadString(t, text)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

// One Manager at a time holds the daemon's Cluster: a second Run while
// the first holds it is refused, and once the first ends the next may
// take it.
func TestLentClusterOneManagerAtATime(t *testing.T) {
	dc := &daemonCluster{}
	first, second := dc.lend(), dc.lend()
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	wg.Go(func() { first.Run(ctx) })
	deadline := time.Now().Add(5 * time.Second)
	for !dc.inUse.Load() {
		if time.Now().After(deadline) {
			t.Fatal("the first Run did not take the cluster")
		}
		time.Sleep(time.Millisecond)
	}
	if err := second.Run(t.Context()); err != errClusterInUse {
		t.Fatalf("second Run while the first holds it: got %v, want %v", err, errClusterInUse)
	}
	cancel()
	wg.Wait()
	done, stop := context.WithCancel(t.Context())
	stop()
	if err := second.Run(done); err != nil {
		t.Fatalf("second Run after the first ended: got %v, want nil", err)
	}
}

// `failoverd check -online` reaches the cluster's etcd and lists its
// members; an etcd that cannot be reached fails the check.
func TestCheckOnlineCluster(t *testing.T) {
	t.Setenv("FAILOVERD_TEST_SECRET", "c2VjcmV0")
	t.Setenv("FAILOVERD_TEST_ETCD_PASSWORD", "pw")
	e := servertest.StartEtcd(t, 1)
	good := strings.Replace(clusterYAML, `[127.0.0.1:2379, "https://127.0.0.2:2379"]`, "["+e.Endpoints()[0]+"]", 1)
	good = strings.Replace(good, "  username: failoverd\n  password_env: FAILOVERD_TEST_ETCD_PASSWORD\n", "", 1)
	cl := loadFile(t, good).Cluster
	var out bytes.Buffer
	if !onlineCluster(t.Context(), cl, &out) || !strings.Contains(out.String(), "1 members (etcd0)") {
		t.Errorf("reachable etcd: got %q, want ok and its member etcd0", out.String())
	}
	out.Reset()
	down := *cl
	down.Endpoints = []string{"127.0.0.1:1"}
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
	defer cancel()
	if onlineCluster(ctx, &down, &out) || !strings.Contains(out.String(), "cluster: etcd at 127.0.0.1:1") {
		t.Errorf("unreachable etcd: got %q, want a failure naming it", out.String())
	}
}

// instanceLease returns the lease of the instance's key under prefix in
// etcd, or 0 when the instance is not live.
func instanceLease(t *testing.T, cli *clientv3.Client, prefix, instance string) clientv3.LeaseID {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
	defer cancel()
	resp, err := cli.Get(ctx, prefix+"instances/"+instance)
	if err != nil || len(resp.Kvs) == 0 {
		return 0
	}
	return clientv3.LeaseID(resp.Kvs[0].Lease)
}

// The TLS files make the etcd connection TLS, with the CA as its roots
// and the client certificate, host:port endpoints dialled with TLS; an
// https:// endpoint alone makes it TLS with the system's roots; a CA file
// that cannot be read stops `run` (and is a warning in a check without
// -strict, as CI lacks the file).
func TestClusterTLS(t *testing.T) {
	t.Setenv("FAILOVERD_TEST_SECRET", "c2VjcmV0")
	t.Setenv("FAILOVERD_TEST_ETCD_PASSWORD", "pw")
	certFile, keyFile := writeCert(t, t.TempDir(), time.Now().Add(time.Hour))
	noAuth := strings.Replace(clusterYAML, "  username: failoverd\n  password_env: FAILOVERD_TEST_ETCD_PASSWORD\n", "", 1)
	plainText := strings.Replace(noAuth, `"https://127.0.0.2:2379"`, "127.0.0.2:2379", 1)
	for _, tc := range []struct {
		name             string
		add              string
		tls, roots, cert bool
	}{
		{"plain", "", false, false, false},
		{"ca", "  ca_file: " + certFile + "\n", true, true, false},
		{"client certificate", "  cert_file: " + certFile + "\n  key_file: " + keyFile + "\n", true, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := loadFile(t, plainText+tc.add).Cluster
			cfg, err := c.tlsConfig()
			if err != nil {
				t.Fatal(err)
			}
			if got := cfg != nil; got != tc.tls {
				t.Fatalf("TLS: got %v, want %v", got, tc.tls)
			}
			if cfg != nil && ((cfg.RootCAs != nil) != tc.roots || (len(cfg.Certificates) == 1) != tc.cert) {
				t.Errorf("got roots %v and %d certificates, want roots %v and certificate %v", cfg.RootCAs != nil, len(cfg.Certificates), tc.roots, tc.cert)
			}
			cli, err := c.client(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			defer cli.Close()
			// host:port is dialled with TLS when TLS is set.
			want := []string{"127.0.0.1:2379", "127.0.0.2:2379"}
			if tc.tls {
				want = []string{"https://127.0.0.1:2379", "https://127.0.0.2:2379"}
			}
			if got := cli.Endpoints(); !equalValues(got, want) {
				t.Errorf("endpoints: got %v, want %v", got, want)
			}
		})
	}
	c := loadFile(t, noAuth).Cluster
	if cfg, err := c.tlsConfig(); err != nil || cfg == nil || cfg.RootCAs != nil {
		t.Errorf("an https:// endpoint: got %v, %v; want TLS with the system's roots", cfg, err)
	}

	missing := noAuth + "  ca_file: /nonexistent/ca.pem\n"
	if err := loadString(t, missing); err == nil || !strings.Contains(err.Error(), ":20:3: cluster: ca_file: open /nonexistent/ca.pem") {
		t.Errorf("a missing CA file: got %v, want an error at cluster:", err)
	}
	file := t.TempDir() + "/failover.yaml"
	os.WriteFile(file, []byte(missing), 0o600)
	if lc, err := load(t.Context(), file, false); err != nil || len(lc.warnings) != 1 || !strings.Contains(lc.warnings[0], "warning: cluster: ca_file") {
		t.Errorf("a missing CA file without -strict: got %v, %v; want one warning", err, lc)
	}
}

// A dry run with cluster: does not join the cluster (as a leader that
// writes nothing it would keep the others from writing): it says so and
// decides alone.
func TestClusterDryRunDoesNotJoin(t *testing.T) {
	e := servertest.StartEtcd(t, 1)
	text := strings.Replace(clusterYAML, `[127.0.0.1:2379, "https://127.0.0.2:2379"]`, "["+e.Endpoints()[0]+"]", 1)
	text = strings.Replace(text, "  username: failoverd\n  password_env: FAILOVERD_TEST_ETCD_PASSWORD\n", "", 1)
	file := t.TempDir() + "/failover.yaml"
	if err := os.WriteFile(file, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	p := startRun(t, []string{"-c", file, "-dry-run"}, "FAILOVERD_TEST_SECRET=c2VjcmV0")
	eventually(t, "running", func() bool { return logHas(p.logs.String(), "msg=running") })
	log := p.logs.String()
	if !logHas(log, "dry run: not joining the cluster") || logHas(log, "cluster: joining") {
		t.Errorf("a dry run with cluster: want it to say it does not join, and not join; log:\n%s", log)
	}
	cli, err := clientv3.New(clientv3.Config{Endpoints: e.Endpoints(), DialTimeout: 2 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	if got := instanceLease(t, cli, "/dns/", "a"); got != 0 {
		t.Errorf("the dry run's instance key: got lease %x, want none", got)
	}
	p.stop()
}

// An endpoint with credentials in it (https://root:s3cret@host:2379) is
// refused at its line and column: etcd's client ignores URL user info
// (the password would authenticate no one) and the endpoint is logged.
// The error never shows the password.
func TestClusterEndpointUserInfoRefused(t *testing.T) {
	t.Setenv("FAILOVERD_TEST_SECRET", "c2VjcmV0")
	t.Setenv("FAILOVERD_TEST_ETCD_PASSWORD", "pw")
	for _, tc := range []struct{ name, ep string }{
		{"https URL", `"https://root:s3cret@127.0.0.2:2379"`},
		{"host:port", `"root:s3cret@127.0.0.2:2379"`},
		{"URL that does not parse", `"https://root:s3cret@127.0.0.2:2379/x y"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := loadString(t, strings.Replace(clusterYAML, `"https://127.0.0.2:2379"`, tc.ep, 1))
			const want = ":20:31: cluster.endpoints[1]: holds an '@'"
			if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "password_env") {
				t.Fatalf("got %v, want an error containing %q and pointing to password_env", err, want)
			}
			if strings.Contains(err.Error(), "s3cret") {
				t.Errorf("the error shows the password: %v", err)
			}
		})
	}
}

// An http:// endpoint is refused beside TLS (an https:// endpoint,
// ca_file or cert_file: etcd's client picks one transport for every
// member from the first endpoint, or drops TLS for http://) and beside
// username (the password in clear); alone, or with host:port endpoints
// and neither, it is plaintext as written.
func TestClusterPlaintextEndpointRefusedBesideTLSOrPassword(t *testing.T) {
	t.Setenv("FAILOVERD_TEST_SECRET", "c2VjcmV0")
	t.Setenv("FAILOVERD_TEST_ETCD_PASSWORD", "pw")
	certFile, keyFile := writeCert(t, t.TempDir(), time.Now().Add(time.Hour))
	auth := "  username: failoverd\n  password_env: FAILOVERD_TEST_ETCD_PASSWORD\n"
	base := strings.Replace(clusterYAML, auth, "", 1)
	for _, tc := range []struct {
		name, endpoints, add string
		want                 string // "" for none
	}{
		{"http and https", `[http://127.0.0.1:2379, "https://127.0.0.2:2379"]`, "", `:20:15: cluster.endpoints[0]: "http://127.0.0.1:2379" is plaintext beside TLS`},
		{"HTTP and https", `[HTTP://127.0.0.1:2379, "https://127.0.0.2:2379"]`, "", `:20:15: cluster.endpoints[0]: "HTTP://127.0.0.1:2379" is plaintext beside TLS`},
		{"http with ca_file", `[127.0.0.1:2379, "http://127.0.0.2:2379"]`, "  ca_file: " + certFile + "\n", `:20:31: cluster.endpoints[1]: "http://127.0.0.2:2379" is plaintext beside TLS`},
		{"http with cert_file", `[127.0.0.1:2379, "http://127.0.0.2:2379"]`, "  cert_file: " + certFile + "\n  key_file: " + keyFile + "\n", `:20:31: cluster.endpoints[1]: "http://127.0.0.2:2379" is plaintext beside TLS`},
		{"http with username", `[127.0.0.1:2379, "http://127.0.0.2:2379"]`, auth, `:20:31: cluster.endpoints[1]: "http://127.0.0.2:2379" is plaintext, and username: would send the password in clear`},
		{"http alone", `[127.0.0.1:2379, "http://127.0.0.2:2379"]`, "", ""},
		{"https with username", `[127.0.0.1:2379, "https://127.0.0.2:2379"]`, auth, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			text := strings.Replace(base, `[127.0.0.1:2379, "https://127.0.0.2:2379"]`, tc.endpoints, 1) + tc.add
			err := loadString(t, text)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("got %v, want it loaded", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("got %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

// A password_env that is unset is the unset-secret rule: a warning in a
// check without -strict (CI lacks the secret), an error for run (see
// TestClusterErrors).
func TestClusterUnsetPasswordWarnsInCheck(t *testing.T) {
	t.Setenv("FAILOVERD_TEST_SECRET", "c2VjcmV0")
	unset := strings.Replace(clusterYAML, "FAILOVERD_TEST_ETCD_PASSWORD", "FAILOVERD_NOT_SET", 1)
	file := t.TempDir() + "/failover.yaml"
	if err := os.WriteFile(file, []byte(unset), 0o600); err != nil {
		t.Fatal(err)
	}
	lc, err := load(t.Context(), file, false)
	if err != nil || len(lc.warnings) != 1 || !strings.Contains(lc.warnings[0], "cluster.password_env: environment variable FAILOVERD_NOT_SET is empty or unset") {
		t.Errorf("an unset password_env in a check: got %v, %v; want one warning naming it", err, lc)
	}
}
