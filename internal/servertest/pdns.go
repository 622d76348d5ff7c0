package servertest

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dnsfailover/failover/provider/powerdns"
)

// PowerDNS is a PowerDNS authoritative server with the SQLite backend and
// its HTTP API, holding one native zone.
type PowerDNS struct {
	Addr   string // DNS, 127.0.0.1:PORT
	APIURL string // http://127.0.0.1:PORT
	APIKey string
	Zone   string
	proc   *process
}

// pdnsSchema is the schema the Debian package pdns-backend-sqlite3 ships.
const pdnsSchema = "/usr/share/pdns-backend-sqlite3/schema/schema.sqlite3.sql"

// StartPowerDNS starts pdns_server with zone (SOA and NS only), and stops
// it when the test ends.
func StartPowerDNS(t testing.TB, zone string) *PowerDNS {
	t.Helper()
	server := need(t, "pdns_server", "pdns-server")
	sqlite := need(t, "sqlite3", "sqlite3")
	if _, err := os.Stat(pdnsSchema); err != nil {
		need(t, "pdns-backend-sqlite3-schema", "pdns-backend-sqlite3")
	}
	dir := t.TempDir()
	db := filepath.Join(dir, "pdns.sqlite3")
	schema, err := os.ReadFile(pdnsSchema)
	if err != nil {
		t.Fatal(err)
	}
	load := exec.Command(sqlite, db)
	load.Stdin = bytes.NewReader(schema)
	if out, err := load.CombinedOutput(); err != nil {
		t.Fatalf("loading the PowerDNS schema: %v\n%s", err, out)
	}
	key := make([]byte, 16)
	rand.Read(key)
	webPort := freePort(t)
	p := &PowerDNS{
		Addr:   net.JoinHostPort("127.0.0.1", strconv.Itoa(freePort(t))),
		APIURL: "http://127.0.0.1:" + strconv.Itoa(webPort),
		APIKey: hex.EncodeToString(key),
		Zone:   zone,
	}
	_, port, _ := net.SplitHostPort(p.Addr)
	conf := strings.Join([]string{
		"launch=gsqlite3",
		"gsqlite3-database=" + db,
		"api=yes",
		"api-key=" + p.APIKey,
		"webserver=yes",
		"webserver-address=127.0.0.1",
		"webserver-port=" + strconv.Itoa(webPort),
		"webserver-allow-from=127.0.0.1",
		"local-address=127.0.0.1",
		"local-port=" + port,
		"guardian=no",
		"daemon=no",
		"disable-syslog=yes",
		"socket-dir=" + dir,
		"cache-ttl=0",
		"negquery-cache-ttl=0",
		"query-cache-ttl=0",
		"zone-cache-refresh-interval=0",
		"",
	}, "\n")
	if err := os.WriteFile(filepath.Join(dir, "pdns.conf"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	p.proc = &process{name: server, args: []string{"--config-dir=" + dir}}
	p.proc.start(t)
	t.Cleanup(func() { p.Stop(false) })
	p.waitAPI(t)
	p.createZone(t)
	waitDNS(t, p.proc, p.Addr, zone)
	return p
}

// Start starts the server again after Stop and waits until it answers.
func (p *PowerDNS) Start(t testing.TB) {
	t.Helper()
	p.proc.start(t)
	p.waitAPI(t)
	waitDNS(t, p.proc, p.Addr, p.Zone)
}

// Stop stops the server: with SIGTERM, or SIGKILL when kill is set.
func (p *PowerDNS) Stop(kill bool) { p.proc.stop(kill) }

// Provider returns a PowerDNS provider for the server's API.
func (p *PowerDNS) Provider() *powerdns.Provider {
	prov, err := powerdns.New(p.APIURL, p.APIKey, powerdns.Options{})
	if err != nil { // the URL and the key are ours: never reached
		panic(err)
	}
	return prov
}

func (p *PowerDNS) api(method, path string, body any) (*http.Response, error) {
	var r bytes.Buffer
	if body != nil {
		json.NewEncoder(&r).Encode(body)
	}
	req, err := http.NewRequest(method, p.APIURL+path, &r)
	if err != nil {
		return nil, err
	}
	req.Header.Set("X-API-Key", p.APIKey)
	req.Header.Set("Content-Type", "application/json")
	return http.DefaultClient.Do(req)
}

func (p *PowerDNS) waitAPI(t testing.TB) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := p.api("GET", "/api/v1/servers/localhost", nil)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if p.proc.exited() || time.Now().After(deadline) {
			t.Fatalf("PowerDNS API at %s did not answer (last: %v):\n%s", p.APIURL, err, p.proc.output())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (p *PowerDNS) createZone(t testing.TB) {
	t.Helper()
	resp, err := p.api("POST", "/api/v1/servers/localhost/zones", map[string]any{
		"name": p.Zone, "kind": "Native", "nameservers": []string{"ns1." + p.Zone},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		var b bytes.Buffer
		b.ReadFrom(resp.Body)
		t.Fatalf("creating zone %s: %s: %s", p.Zone, resp.Status, b.String())
	}
}
