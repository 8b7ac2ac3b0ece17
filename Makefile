# Dashboard analytics service. `make help` lists the targets.
SHELL := /bin/bash
export GOFLAGS := -tags=duckdb_arrow
DATA_DIR ?= ./data
BIN := bin/dashboard

.PHONY: help build run test race bench bench-quick lint fuzz clean

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

build: ## build bin/dashboard
	go build -o $(BIN) ./cmd/dashboard

run: build ## build and start `dashboard run` on ./data (demo data on an empty data dir)
	$(BIN) run --data-dir $(DATA_DIR)

# Fuzz budgets are counts of executions, not durations: with a duration, Go 1.26's fuzz
# coordinator can fail a clean run with a bare "context deadline exceeded" at the boundary
# (golang/go#75804, fixed in Go 1.27). A count has no deadline to race.
FUZZ_SHORT ?= 80000x
FUZZ_LONG ?= 1000000x

test: ## run every test (real DuckDB, Parquet, HTTP), with short fuzz runs
	go test -count=1 -timeout 20m ./...
	go test -run '^$$' -fuzz '^FuzzValidator$$' -fuzztime $(FUZZ_SHORT) ./etl
	go test -run '^$$' -fuzz '^FuzzPruneDeep$$' -fuzztime $(FUZZ_SHORT) ./etl
	go test -run '^$$' -fuzz '^FuzzValidDeep$$' -fuzztime $(FUZZ_SHORT) ./etl
	go test -run '^$$' -fuzz '^FuzzParseRange$$' -fuzztime $(FUZZ_SHORT) ./api
	go test -run '^$$' -fuzz '^FuzzReportBody$$' -fuzztime $(FUZZ_SHORT) ./api
	go test -run '^$$' -fuzz '^FuzzNeedsStrictParse$$' -fuzztime $(FUZZ_SHORT) ./api
	go test -run '^$$' -fuzz '^FuzzParseUUID$$' -fuzztime $(FUZZ_SHORT) ./internal/ident

race: ## run the tests with the race detector
	go test -race -count=1 -timeout 30m ./...

bench: ## measure everything on a generated year (BENCH_MESSAGES=10000000); writes BENCHMARKS.md
	./scripts/bench.sh

bench-quick: ## the same on ~1M messages, in a few minutes
	BENCH_MESSAGES=1000000 BENCH_DAYS=90 BENCH_SECONDS=2 BENCH_OUT=BENCHMARKS-quick.md ./scripts/bench.sh

lint: ## gofmt and go vet
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); exit 1)
	go vet ./...

fuzz: ## run each fuzz target for a million executions
	go test -run '^$$' -fuzz '^FuzzValidator$$' -fuzztime $(FUZZ_LONG) ./etl
	go test -run '^$$' -fuzz '^FuzzPruneDeep$$' -fuzztime $(FUZZ_LONG) ./etl
	go test -run '^$$' -fuzz '^FuzzValidDeep$$' -fuzztime $(FUZZ_LONG) ./etl
	go test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZ_LONG) ./internal/instant
	go test -run '^$$' -fuzz '^FuzzParseUUID$$' -fuzztime $(FUZZ_LONG) ./internal/ident
	go test -run '^$$' -fuzz '^FuzzParseRange$$' -fuzztime $(FUZZ_LONG) ./api
	go test -run '^$$' -fuzz '^FuzzReportBody$$' -fuzztime $(FUZZ_LONG) ./api
	go test -run '^$$' -fuzz '^FuzzNeedsStrictParse$$' -fuzztime $(FUZZ_LONG) ./api
	go test -run '^$$' -fuzz '^FuzzAppendJSONString$$' -fuzztime $(FUZZ_LONG) ./etl/generate

clean: ## remove the binary (not the data dir)
	rm -rf bin
