# wdbg: a WinDbg-compatible debugger for Windows crash dumps. `make help` lists the targets.

GO ?= go
# staticcheck 2025.1.1 is module version v0.6.1 (the proxy does not resolve the year tags).
STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@v0.6.1
# Seconds the fuzz smoke run of `make test` shares among all fuzz targets, and per target for `make fuzz`.
FUZZ_SMOKE_BUDGET ?= 20
FUZZ_SECONDS ?= 120
SAMPLE_COMMANDS ?= vertarget; lm; ~; .lastevent; .exr -1; q

.PHONY: help build test fuzz bench lint sample run-sample readme jsondoc golden clean

help:
	@echo "make build       build ./wdbg"
	@echo "make test        unit, corpus and transcript tests, then a short fuzz run (~1 min)"
	@echo "make fuzz        fuzz every target for FUZZ_SECONDS (default $(FUZZ_SECONDS)) each"
	@echo "make bench       benchmarks (open time and memory of big dumps, ...)"
	@echo "make lint        go vet and staticcheck (staticcheck is fetched from the module proxy)"
	@echo "make sample      regenerate testdata/sample.dmp"
	@echo "make run-sample  run wdbg on testdata/sample.dmp"
	@echo "make readme      regenerate README.md's command reference from the command table"
	@echo "make jsondoc     regenerate docs/json.md's result reference from real --json output (needs the fixtures)"
	@echo "make golden      rewrite testdata/transcripts/*.txt from current output (review the diff!)"

build:
	$(GO) build -o wdbg .

test:
	$(GO) test ./...
	GO=$(GO) .ci/fuzz $(FUZZ_SMOKE_BUDGET) 2

fuzz:
	GO=$(GO) .ci/fuzz 0 $(FUZZ_SECONDS)

bench:
	$(GO) test -bench . -benchmem -run '^$$' ./...

lint:
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...

sample:
	$(GO) generate ./engine/synth

run-sample:
	$(GO) run . -z testdata/sample.dmp -c "$(SAMPLE_COMMANDS)"

readme:
	$(GO) test -run '^TestReadmeCommandReference$$' -update .

jsondoc:
	WDBG_CORPUS_REQUIRED=1 $(GO) test -run '^TestJSONReference$$' -update .

golden:
	$(GO) test -run '^TestTranscripts$$' -update .

clean:
	rm -f wdbg
