# The README's two commands: `go run ./cmd/coop demo` runs the platform, `make test` runs every test.
GO ?= go

.PHONY: test vet build demo

# Every test, with the race detector and never from the cache (some suites talk to PostgreSQL and
# a browser, whose state the cache cannot see). The summary lists any skipped test by name, with
# why it skipped; CI sets COOP_TEST_REQUIRE=postgres,browser so that those suites fail instead.
test: vet
	$(GO) tool gotestsum --format pkgname-and-test-fails --format-hide-empty-pkg -- -race -count=1 -timeout 20m ./...

vet:
	$(GO) vet ./...

build:
	$(GO) build -o bin/coop ./cmd/coop

demo:
	$(GO) run ./cmd/coop demo
