# WCMS — every build, test and check goes through here. `make help` lists the targets.

GO ?= go
BIN := bin
VERSION ?= $(shell cat VERSION)
LDFLAGS := -s -w -X main.version=$(VERSION)

.DEFAULT_GOAL := help
.PHONY: help run test build generate check-generated lint bench bench-load bench-cluster bench-herd bench-soak footprint clean

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z0-9_-]+:.*## / {printf "  %-16s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

run: ## run the server on :5050 (SQLite in data/wcms.db)
	$(GO) run .

test: ## run every test with the race detector; with WCMS_TEST_POSTGRES (a postgres:// URL) the store's and the cluster's tests on PostgreSQL too, and with WCMS_TEST_PG_RESTART (a command) the restart test last
	env -u WCMS_TEST_POSTGRES $(GO) test -race -count=1 -timeout 15m ./...
	if [ -n "$$WCMS_TEST_POSTGRES" ]; then \
		$(GO) test -race -count=1 -timeout 15m ./models/ ./fleet/ ./handlers/ ./cluster/ . && \
		$(GO) test -count=1 -timeout 10m -run 'TestTwoInstancesBehindAProxy' -v ./e2e/; fi
	if [ -n "$$WCMS_TEST_POSTGRES" ] && [ -n "$$WCMS_TEST_PG_RESTART" ]; then \
		$(GO) test -count=1 -timeout 10m -run 'TestInstancesSurvivePostgresRestart' -v ./e2e/; fi

build: ## build the server and the agent for Linux and Windows (no cgo), with SHA-256 files
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/wcms-server .
	@# No -trimpath for the agent: with it Go leaves -ldflags out of the build info, where the
	@# server reads an uploaded build's version.
	CGO_ENABLED=0 $(GO) build -ldflags '$(LDFLAGS)' -o $(BIN)/wcms-agent ./cmd/wcms-agent
	CGO_ENABLED=0 GOOS=windows GOARCH=amd64 $(GO) build -ldflags '$(LDFLAGS)' -o $(BIN)/wcms-agent.exe ./cmd/wcms-agent
	cd $(BIN) && for f in wcms-server wcms-agent wcms-agent.exe; do sha256sum $$f > $$f.sha256; done
	@ls -l $(BIN)

FONT := node_modules/@fontsource-variable/noto-sans-kr

generate: ## regenerate views/*_templ.go, static/app.css (Tailwind), the htmx files and the font (npm ci first)
	$(GO) tool templ generate
	npx --no-install tailwindcss -c tailwind.config.js -i static/src/app.css -o static/app.css --minify
	cp node_modules/htmx.org/dist/htmx.min.js node_modules/htmx-ext-sse/dist/sse.min.js static/
	rm -rf static/fonts && mkdir static/fonts && cp $(FONT)/files/*.woff2 static/fonts/ && cp $(FONT)/LICENSE static/fonts/OFL.txt
	sed 's#url(./files/#url(./fonts/#g' $(FONT)/index.css > static/fonts.css

check-generated: ## fail when the committed *_templ.go or built assets are stale
	$(GO) test -count=1 -run 'TestGeneratedUpToDate|TestBuiltAssetsUpToDate' ./views/ ./static/

lint: ## gofmt (hand-written files), go.mod tidy, go vet, and go vet for Windows (the agent's main target)
	@unformatted=$$(find . -name '*.go' ! -name '*_templ.go' -not -path './.git/*' -not -path './node_modules/*' -print0 | xargs -0 -r gofmt -l); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed on:"; echo "$$unformatted"; exit 1; fi
	@$(GO) mod tidy -diff || { echo "go.mod or go.sum is not tidy: run go mod tidy"; exit 1; }
	$(GO) vet ./...
	GOOS=windows $(GO) vet ./...

bench: ## run the benchmarks, with allocations
	$(GO) test -run '^$$' -bench . -benchmem ./...

bench-load: ## load the built server, 60 s a point: 1k-20k agents in rooms of 50, one room per dashboard; then 10k with every dashboard on every PC (JSON in bin/load-*.json)
	CGO_ENABLED=0 $(GO) build -o $(BIN)/wcms-server .
	$(GO) build -o $(BIN)/wcms-loadgen ./cmd/wcms-loadgen
	for n in 1000 2000 5000 10000 15000 20000; do $(BIN)/wcms-loadgen -spawn $(BIN)/wcms-server -agents $$n -room-size 50 -json > $(BIN)/load-rooms-$$n.json || exit 1; done
	$(BIN)/wcms-loadgen -spawn $(BIN)/wcms-server -agents 10000 -json > $(BIN)/load-all-10000.json

bench-cluster: ## two instances on PostgreSQL (WCMS_BENCH_POSTGRES, a postgres:// URL): 10k agents at one, the other applying its changes (PEERS=0: alone); CPU of both and of PostgreSQL
	CGO_ENABLED=0 $(GO) build -o $(BIN)/wcms-server .
	$(GO) build -o $(BIN)/wcms-loadgen ./cmd/wcms-loadgen
	BIN=$(BIN) cmd/wcms-loadgen/cluster-load.sh

bench-herd: ## 2,000 agents lose the server for 60 s: how their reconnects spread, nothing lost or run twice
	WCMS_HERD=1 $(GO) test -count=1 -run TestHerdAfterOutage -v -timeout 10m ./e2e/

bench-soak: ## 30 minutes at 2,000 agents with dashboard streams coming and going: goroutines, fds, heap, RSS
	WCMS_SOAK=$${WCMS_SOAK:-30m} $(GO) test -count=1 -run TestSoak -v -timeout 60m ./e2e/

footprint: ## measure the agent's memory and CPU over 60 s of polling, and its binary sizes
	WCMS_FOOTPRINT=1 $(GO) test -count=1 -run TestAgentFootprint -v ./e2e/

clean: ## remove build output (never data/)
	rm -rf $(BIN)
