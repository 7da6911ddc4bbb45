# The README's commands, as thin wrappers over scripts/ and CMake presets.
#   make run   install what is missing, build (release), make demo data, run the main job
#   make test  build and run every default test (unit, integration, end-to-end)
.PHONY: run test build setup demo web asan fuzz bench format format-check clean

JOBS ?= 2
DEMO_DB ?= data/demo.db
BUILD := build/release
CLI := $(BUILD)/src/crimecast

run: setup build demo web
	scripts/run-main

# The web client (web/dist, served by `crimecast serve --static`): npm ci + npm run build when
# node_modules or dist is missing or older than the sources.
web:
	scripts/build-web

setup:
	scripts/setup

build:
	cmake --preset release >/dev/null
	cmake --build --preset release -j $(JOBS)

demo: build
	scripts/make-demo $(DEMO_DB)

test: setup build
	ctest --preset default

asan: setup
	cmake --preset asan >/dev/null
	cmake --build --preset asan -j $(JOBS) --target core_unit_tests server_tests crimecast
	ctest --preset asan

fuzz: setup
	scripts/fuzz-smoke.sh

bench: setup
	cmake --preset release -DCRIMECAST_BUILD_BENCHMARKS=ON >/dev/null
	cmake --build --preset release -j $(JOBS)
	scripts/bench-all

format:
	scripts/format.sh

format-check:
	scripts/format.sh --check

clean:
	rm -rf build
