# make test: what CI runs (.ci/run) and what a new user runs.
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2

.PHONY: test fmt vet staticcheck demo

test: fmt vet staticcheck
	go test -race -count=1 ./...

fmt:
	@out=$$(gofmt -l .); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

vet:
	go vet ./...

staticcheck:
	go run $(STATICCHECK) ./...

demo:
	go run ./examples/demo
