package providertest_test

import (
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
