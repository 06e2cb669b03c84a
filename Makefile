# Linkage. `make run` starts the demo (server + simulated call center); `make test` runs every test.
GO        ?= go
BIN       ?= bin/linkage
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -X github.com/linkage/linkage/internal/app.Version=$(VERSION)
RUN_ARGS  ?=

.PHONY: run test build generate check-generated migration bench lint deps

deps:
	@internal/tools/ensure-deps.sh postgres

build:
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN) .

run: deps build
	$(BIN) demo $(RUN_ARGS)

# Every test: generated code must be current, then the whole module against real
# PostgreSQL (each test binary starts its own throwaway cluster).
test: deps check-generated
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 20m ./...

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
