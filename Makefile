# Linkage. `make run` starts the demo (server + simulated call center); `make test` runs every test.
GO        ?= go
BIN       ?= bin/linkage
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -X github.com/linkage/linkage/internal/app.Version=$(VERSION)
RUN_ARGS  ?=

.PHONY: run test build generate check-generated migration bench lint deps web web-deps

deps:
	@internal/tools/ensure-deps.sh postgres

# The web app (web/): npm ci from the committed lock (only when it changed), then
# the Vite build into web/dist/app, which `go build` embeds.
web: web-deps web/node_modules/.installed
	cd web && npm run build

web-deps:
	@internal/tools/ensure-deps.sh node

web/node_modules/.installed: web/package.json web/package-lock.json
	cd web && npm ci --no-audit --no-fund
	@touch $@

build:
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN) .

run: deps web build
	$(BIN) demo $(RUN_ARGS)

# Every test: generated code must be current, then the whole module against real
# PostgreSQL (each test binary starts its own throwaway cluster).
# The web app's end-to-end tests (web/e2e_test.go) drive Debian's Chromium, installed here.
test: deps web check-generated
	@internal/tools/ensure-deps.sh chromium
	$(GO) vet ./...
	LINKAGE_E2E_NO_BUILD=1 $(GO) test -count=1 -timeout 20m ./...

# Regenerates everything generated: ent (client + GraphQL schema), gqlgen, AMI event types.
generate:
	$(GO) generate ./ent
	$(GO) tool gqlgen generate
	$(GO) generate ./ami

# Fails when committed generated code differs from what `make generate` writes, or
# when ent/schema changed without a migration.
check-generated:
	@internal/tools/check-generated.sh

# New versioned migration from ent/schema changes: make migration NAME=add_things
migration: deps
	$(GO) run ./internal/tools/migdiff -name $(NAME)

bench: deps
	$(GO) test -run '^$$' -bench . -benchmem ./...

lint:
	$(GO) vet ./...
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
