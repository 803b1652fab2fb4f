# WCMS — every build, test and check goes through here. `make help` lists the targets.

GO ?= go
BIN := bin

.DEFAULT_GOAL := help
.PHONY: help run test build generate check-generated lint bench clean

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z0-9_-]+:.*## / {printf "  %-16s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

run: ## run the server on :5050 (SQLite in data/wcms.db)
	$(GO) run .

test: ## run every test with the race detector
	$(GO) test -race -count=1 -timeout 15m ./...

build: ## build bin/wcms-server (static, no cgo) and its SHA-256 checksum
	CGO_ENABLED=0 $(GO) build -trimpath -o $(BIN)/wcms-server .
	cd $(BIN) && sha256sum wcms-server > wcms-server.sha256

generate: ## regenerate views/*_templ.go from the .templ files
	$(GO) tool templ generate

check-generated: ## fail when the committed *_templ.go are stale
	$(GO) test -count=1 ./views/ -run TestGeneratedUpToDate

lint: ## gofmt (hand-written files) and go vet
	@unformatted=$$(find . -name '*.go' ! -name '*_templ.go' -not -path './.git/*' -not -path './node_modules/*' -print0 | xargs -0 -r gofmt -l); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed on:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...

bench: ## run the benchmarks, with allocations
	$(GO) test -run '^$$' -bench . -benchmem ./...

clean: ## remove build output (never data/)
	rm -rf $(BIN)
