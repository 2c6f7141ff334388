# wasmnet. "make help" lists the targets; README.md explains them.

GO     ?= go
ADDR   ?= localhost:8080
GOROOT := $(shell $(GO) env GOROOT)
FUZZTIME ?= 20s

# Packages that are built for WebAssembly as well as natively, and the
# example programs, which are built for it too (the demo is a native server).
WASM_PKGS := ./wisp/... ./internal/buffer/... ./wasm/...
EXAMPLES   = $(shell $(GO) list ./examples/... | grep -v /examples/demo)

.PHONY: help run test fuzz wasm bench check deps

help: ## list the targets
	@awk -F':.*## ' '/^[a-z]+:.*## /{printf "  make %-6s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

run: wasm ## build main.wasm and serve the demo page and its bridge on http://localhost:8080
	$(GO) run ./examples/demo -addr $(ADDR)

wasm: ## build main.wasm and each example page's main.wasm (with .gz and .br); copy Go's wasm_exec.js and write the default TLS roots into js/
	# No symbol table, and no inlining in our own packages, which in the
	# page are the control plane: 12 KB less brotli, nothing measurable slower.
	GOOS=js GOARCH=wasm $(GO) build -trimpath -ldflags='-s -w' -gcflags='github.com/wasmnet/wasmnet/...=-l' -o main.wasm ./wasm
	for d in examples/*/; do if [ -f $$d/index.html ]; then \
		GOOS=js GOARCH=wasm $(GO) build -trimpath -ldflags='-s -w' -o $$d/main.wasm ./$$d || exit 1; fi; done
	cp "$(GOROOT)/lib/wasm/wasm_exec.js" js/wasm_exec.js
	$(GO) run ./wasm/internal/roots/gen > js/roots.pem
	for f in main.wasm examples/*/main.wasm js/roots.pem; do [ -f $$f ] || continue; gzip -9 -k -f $$f; \
		if command -v brotli >/dev/null; then brotli -f -q 11 $$f; fi; done

deps: ## install what the tests need: npm packages, and Debian's chromium if missing
	.ci/deps

test: deps wasm ## run every test: native with -race, inside wasm (wazero, Node), interop, browsers; tsc on js/
	js/node_modules/.bin/tsc --noEmit -p js/typecheck
	$(GO) test -race -count=1 -timeout 30m ./...
	$(GO) test -count=1 -timeout 10m -run '^(TestLoad|TestSlowReadersBounded)$$' -v ./bridge/ # load: too slow under -race

fuzz: ## fuzz the packet decoder and the bridge's sessions, 20s each (FUZZTIME=5m for longer)
	$(GO) test -run '^$$' -fuzz '^FuzzDecode$$' -fuzztime $(FUZZTIME) ./wisp/
	$(GO) test -run '^$$' -fuzz '^FuzzSession$$' -fuzztime $(FUZZTIME) ./bridge/

bench: deps ## measure throughput, latency and memory against raw TCP, wisp-js and websockify
	$(GO) test -run '^$$' -bench . -benchmem -count 3 -timeout 30m ./wasm/wasmnet/
	$(GO) run ./bench

# staticcheck, built for this machine, so that it can check js and wasip1.
STATICCHECK := .cache/bin/staticcheck

$(STATICCHECK):
	GOBIN=$(CURDIR)/.cache/bin $(GO) install honnef.co/go/tools/cmd/staticcheck@v0.8.2

check: $(STATICCHECK) ## cross-build native, js and wasip1; vet and staticcheck each; gofmt; go mod tidy leaves no diff
	$(GO) build ./...
	GOOS=js GOARCH=wasm $(GO) build $(WASM_PKGS) $(EXAMPLES)
	GOOS=wasip1 GOARCH=wasm $(GO) build $(WASM_PKGS) $(EXAMPLES)
	$(GO) vet ./...
	GOOS=js GOARCH=wasm $(GO) vet $(WASM_PKGS)
	GOOS=wasip1 GOARCH=wasm $(GO) vet $(WASM_PKGS)
	$(STATICCHECK) ./...
	GOOS=js GOARCH=wasm $(STATICCHECK) $(WASM_PKGS)
	GOOS=wasip1 GOARCH=wasm $(STATICCHECK) $(WASM_PKGS)
	@test -z "$$(gofmt -l .)" || { gofmt -l .; echo "gofmt needed"; exit 1; }
	$(GO) mod tidy
	git diff --exit-code go.mod go.sum
