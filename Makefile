# make test: what CI runs (.ci/run) and what a new user runs. conformance/
# is a module of its own (it requires libdns v1.2.0-alpha.1 for libdnstest;
# the main module stays on v1.1.1): every step runs there too.
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2

.PHONY: test deps fmt vet staticcheck demo

test: deps fmt vet staticcheck
	go test -race -count=1 ./...
	cd conformance && go test -race -count=1 ./...

# deps installs what the tests run when it is missing: BIND, Knot, PowerDNS,
# Chromium for the status page test, and etcd, built from the nested module
# internal/servertest/etcdserver (its own go.mod, so the etcd server stays out
# of the library's dependencies) into the cache path that
# servertest.EtcdBinaryPath names. That module holds no Go code of its own:
# ./... above does not enter it and there is nothing in it to vet.
ETCD_BIN := $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/dnsfailover/etcd-v3.7.3/etcd

deps: $(ETCD_BIN)

$(ETCD_BIN):
	go build -C internal/servertest/etcdserver -o $@ go.etcd.io/etcd/server/v3

deps:
	@missing=""; \
	command -v named >/dev/null || missing="$$missing bind9"; \
	command -v dig >/dev/null || missing="$$missing bind9-dnsutils"; \
	command -v knotd >/dev/null || missing="$$missing knot"; \
	command -v pdns_server >/dev/null || missing="$$missing pdns-server"; \
	[ -f /usr/share/pdns-backend-sqlite3/schema/schema.sqlite3.sql ] || missing="$$missing pdns-backend-sqlite3"; \
	command -v sqlite3 >/dev/null || missing="$$missing sqlite3"; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	if [ -n "$$missing" ]; then \
		sudo=""; [ "$$(id -u)" = 0 ] || sudo=sudo; \
		echo "installing:$$missing"; \
		export DEBIAN_FRONTEND=noninteractive; \
		$$sudo apt-get install -y -qq --no-install-recommends $$missing || \
		{ $$sudo apt-get update -qq && $$sudo apt-get install -y -qq --no-install-recommends $$missing; }; \
	fi

fmt:
	@out=$$(gofmt -l .); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

vet:
	go vet ./...
	cd conformance && go vet ./...

staticcheck:
	go run $(STATICCHECK) ./...
	cd conformance && go run $(STATICCHECK) ./...

demo:
	go run ./examples/demo
