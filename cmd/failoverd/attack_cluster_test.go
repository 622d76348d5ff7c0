//go:build failing

package main

import (
	"strings"
	"testing"
	"time"

	"github.com/dnsfailover/failover/internal/servertest"
)

// An etcd endpoint written with credentials in it
// (https://root:s3cret@10.0.0.1:2379) is accepted: the user sees failoverd
// start, authenticate as no one (clientv3 ignores URL user info: the
// username/password fields are the only way), and log the endpoint,
// password included, in "cluster: joining ... etcd=https://root:s3cret@..."
// and in every connection error and `check -online` line. It must be
// refused at load, naming the field, like an endpoint without a port.
func TestAttackClusterEndpointUserInfoAccepted(t *testing.T) {
	t.Setenv("FAILOVERD_TEST_SECRET", "c2VjcmV0")
	t.Setenv("FAILOVERD_TEST_ETCD_PASSWORD", "pw")
	text := strings.Replace(clusterYAML, `"http://127.0.0.2:2379"`, `"https://root:s3cret@127.0.0.2:2379"`, 1)
	err := loadString(t, text)
	if err == nil || !strings.Contains(err.Error(), "cluster.endpoints[1]") {
		t.Fatalf("an endpoint with a password in its URL: got %v, want an error at cluster.endpoints[1]", err)
	}
	if strings.Contains(err.Error(), "s3cret") {
		t.Errorf("the error shows the password: %v", err)
	}
}

// ca_file (or cert_file) with an explicit http:// endpoint loads without
// a word, and that member is dialled in plaintext (clientv3 drops the TLS
// credentials for http://; worse, it picks one transport for the whole
// balancer from the FIRST endpoint, so endpoints: [http://a, https://b]
// dials every member in clear). The user asked for TLS by giving a CA;
// the etcd password (username/password_env) and every verdict then cross
// the network in clear. A TLS file beside an http:// endpoint must be
// refused (or the endpoint upgraded), not silently ignored.
func TestAttackClusterCAFileWithHTTPEndpointIsPlaintext(t *testing.T) {
	t.Setenv("FAILOVERD_TEST_SECRET", "c2VjcmV0")
	t.Setenv("FAILOVERD_TEST_ETCD_PASSWORD", "pw")
	certFile, _ := writeCert(t, t.TempDir(), time.Now().Add(time.Hour))
	noAuth := strings.Replace(clusterYAML, "  username: failoverd\n  password_env: FAILOVERD_TEST_ETCD_PASSWORD\n", "", 1)
	text := noAuth + "  ca_file: " + certFile + "\n"
	err := loadString(t, text)
	if err != nil {
		return // refused: fine
	}
	c := loadFile(t, text).Cluster
	cli, cerr := c.client(t.Context())
	if cerr != nil {
		t.Fatal(cerr)
	}
	defer cli.Close()
	for _, ep := range cli.Endpoints() {
		if strings.HasPrefix(ep, "http://") {
			t.Errorf("with ca_file and a password, endpoint %s is dialled in plaintext; want the file refused or TLS on every endpoint", ep)
		}
	}
}

// username: without any password loads without a word, and clientv3
// then silently skips authentication (getToken returns nil when the
// password is empty): failoverd starts, claims "authenticates at start",
// and on an etcd with auth enabled every request fails at run time with
// a permission error, far from the mistake. A username without a
// password must be refused at load, naming cluster.password.
func TestAttackClusterUsernameWithoutPassword(t *testing.T) {
	t.Setenv("FAILOVERD_TEST_SECRET", "c2VjcmV0")
	text := strings.Replace(clusterYAML, "  password_env: FAILOVERD_TEST_ETCD_PASSWORD\n", "", 1)
	if err := loadString(t, text); err == nil || !strings.Contains(err.Error(), "password") {
		t.Fatalf("username without password: got %v, want an error naming the password", err)
	}
}

var _ = servertest.StartEtcd
