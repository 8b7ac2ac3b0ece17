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

test: ## run every test (real DuckDB, Parquet, HTTP), with short fuzz runs
	go test -count=1 -timeout 20m ./...
	go test -run '^$$' -fuzz '^FuzzValidator$$' -fuzztime 10s ./etl
	go test -run '^$$' -fuzz '^FuzzParseRange$$' -fuzztime 10s ./api
	go test -run '^$$' -fuzz '^FuzzReportBody$$' -fuzztime 10s ./api

race: ## run the tests with the race detector
	go test -race -count=1 -timeout 30m ./...

bench: ## measure everything on a generated year (BENCH_MESSAGES=10000000); writes BENCHMARKS.md
	./scripts/bench.sh

bench-quick: ## the same on ~1M messages, in a few minutes
	BENCH_MESSAGES=1000000 BENCH_DAYS=90 BENCH_SECONDS=2 BENCH_OUT=BENCHMARKS-quick.md ./scripts/bench.sh

lint: ## gofmt and go vet
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); exit 1)
	go vet ./...

fuzz: ## run each fuzz target for a minute
	go test -run '^$$' -fuzz '^FuzzValidator$$' -fuzztime 60s ./etl
	go test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime 60s ./internal/instant
	go test -run '^$$' -fuzz '^FuzzParseRange$$' -fuzztime 60s ./api
	go test -run '^$$' -fuzz '^FuzzReportBody$$' -fuzztime 60s ./api

clean: ## remove the binary (not the data dir)
	rm -rf bin
