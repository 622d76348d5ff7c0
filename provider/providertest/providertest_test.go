package providertest_test

import (
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/dnsfailover/failover/internal/servertest"
	"github.com/dnsfailover/failover/provider/memory"
	"github.com/dnsfailover/failover/provider/providertest"
)

func TestMemory(t *testing.T) {
	p := &memory.Provider{}
	if err := p.AddZone("example.test."); err != nil {
		t.Fatal(err)
	}
	providertest.Run(t, "example.test.", p)
}

func TestRFC2136OnBIND(t *testing.T) {
	b := servertest.StartBIND(t, "example.test.")
	providertest.Run(t, "example.test.", b.Provider())
}

func TestRFC2136OnKnot(t *testing.T) {
	k := servertest.StartKnot(t, "example.test.")
	providertest.Run(t, "example.test.", k.Provider())
}

func TestPowerDNS(t *testing.T) {
	s := servertest.StartPowerDNS(t, "example.test.")
	providertest.Run(t, "example.test.", s.Provider())
}

// A write that fails in one of the concurrent writers fails the case with
// that write's error, reported from the test's own goroutine (testing
// forbids FailNow anywhere else), and the case stops there instead of
// going on to read back what was never written. The suite runs in a child
// process, since the failure is the point.
func TestConcurrentWriteFailureIsReported(t *testing.T) {
	if os.Getenv("PROVIDERTEST_CHILD") == "1" {
		p := &memory.Provider{}
		if err := p.AddZone("example.test."); err != nil {
			t.Fatal(err)
		}
		p.SetHook(func(c memory.Call) *memory.Fault {
			if c.Method == memory.MethodSetRecords && len(c.Records) == 1 && c.Records[0].RR().Name == "pt-conc-3" {
				return &memory.Fault{Err: errors.New("refused by the test")}
			}
			return nil
		})
		providertest.Run(t, "example.test.", p)
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestConcurrentWriteFailureIsReported$", "-test.v")
	cmd.Env = append(os.Environ(), "PROVIDERTEST_CHILD=1")
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("got a passing suite, want concurrent-writes to fail:\n%s", out)
	}
	for _, want := range []string{"--- FAIL: TestConcurrentWriteFailureIsReported/concurrent-writes", "pt-conc-3", "refused by the test", "--- PASS: TestConcurrentWriteFailureIsReported/cancelled-context"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("got output without %q:\n%s", want, out)
		}
	}
	if strings.Contains(string(out), "pt-conc-3 A: got") {
		t.Errorf("got a read-back failure after the failed write, want the case stopped at the write:\n%s", out)
	}
}
