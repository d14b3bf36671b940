# torfleet — the commands of the README. Every target installs what it needs first (.ci/install-deps).
SHELL := /bin/bash
.DEFAULT_GOAL := help
TORFLEET := node dist/reconciler/src/cli/main.js
TOR_IMAGE ?= torfleet/tor:0.4.9
RECONCILER_IMAGE ?= $(or $(TORFLEET_RECONCILER_IMAGE),torfleet/reconciler:latest)
# PULL=0: never ask an image registry (reconciler-image, up); only images already here are used.
PULL ?= 1
export PULL

.PHONY: help deps docker image reconciler-image up down build lint test bench validate plan apply nodes-refresh nodes-stats demo demo-down clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

deps: ## install Debian packages and node_modules as needed
	@.ci/install-deps

docker: deps ## make sure a Docker engine answers (starts dockerd when root and none runs)
	@.ci/start-dockerd

image: docker ## build the tor image $(TOR_IMAGE): from templates/Dockerfile if debian:bookworm-slim is here, else without any registry
	@if docker image inspect debian:bookworm-slim >/dev/null 2>&1; then \
	  docker build -t $(TOR_IMAGE) -f templates/Dockerfile templates; \
	else \
	  templates/build-tor-image.sh $(TOR_IMAGE); \
	fi

reconciler-image: build docker ## build $(RECONCILER_IMAGE): reconciler/Dockerfile if node:20-bookworm-slim is here or can be pulled, else without any registry
	@if docker image inspect node:20-bookworm-slim >/dev/null 2>&1 || \
	    { [ "$(PULL)" != 0 ] && docker pull -q node:20-bookworm-slim >/dev/null 2>&1; }; then \
	  docker build -f reconciler/Dockerfile -t $(RECONCILER_IMAGE) .; \
	else \
	  echo "node:20-bookworm-slim cannot be had here: building $(RECONCILER_IMAGE) from this machine's node, tor and git"; \
	  reconciler/deploy/build-reconciler-image.sh $(RECONCILER_IMAGE); \
	fi

up: image reconciler-image ## start reconciler, Prometheus, Grafana, cAdvisor (those whose images can be had; the PUBLIC Tor network: your machines only)
	@TORFLEET_RECONCILER_IMAGE=$(RECONCILER_IMAGE) reconciler/deploy/compose.sh up
	@echo "API http://$${TORFLEET_LISTEN:-127.0.0.1:8080}/proxies  Prometheus http://$${TORFLEET_PROMETHEUS_LISTEN:-127.0.0.1:9090}  Grafana http://127.0.0.1:3000  cAdvisor http://127.0.0.1:8081 (those started)"

down: ## stop the compose services; the proxies keep running (remove them by applying an empty fleet)
	@reconciler/deploy/compose.sh down

build: deps ## compile TypeScript to dist/
	npm run build

lint: deps ## eslint + prettier
	npm run lint

test: deps image ## lint, then build (tsc typechecks) and every test: what CI runs
	npm run lint
	npm test

bench: deps ## benchmarks; figures printed as Markdown (see BENCHMARKS.md)
	npm run bench

validate: build ## check fleet/fleet.yaml
	$(TORFLEET) validate fleet/fleet.yaml

plan: build ## print what apply would change (exit 0 nothing, 2 changes, 1 error)
	$(TORFLEET) plan || [ $$? -eq 2 ]

apply: build image ## one reconcile pass: converge the running proxies on the fleet
	$(TORFLEET) apply

nodes-refresh: build ## refresh the exit-relay database (TORFLEET_NODE_SOURCE, TORFLEET_ONIONOO_URL, ...)
	$(TORFLEET) nodes refresh

nodes-stats: build ## print the exit-relay database counts
	$(TORFLEET) nodes stats

demo: build image ## the offline demo: a private Tor network, torfleet run, Prometheus; prints what to try
	node dist/reconciler/src/demo/demo.js up

demo-down: ## stop and remove everything make demo started
	node dist/reconciler/src/demo/demo.js down

clean: ## remove build output
	rm -rf dist
