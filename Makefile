# wasmnet. "make help" lists the targets; README.md explains them.

GO     ?= go
ADDR   ?= localhost:8080
GOROOT := $(shell $(GO) env GOROOT)
# Fuzzing budgets are counts of runs, about 20 s each here: with a
# duration, Go 1.26's fuzzing coordinator can fail a run that found nothing
# with "context deadline exceeded" at the deadline (go.dev/issue/75804,
# fixed in Go 1.27). FUZZTIME=5m gives both targets a duration instead.
FUZZ_DECODE  ?= 500000x
FUZZ_SESSION ?= 8000x

# Packages that are built for WebAssembly as well as natively, and the
# example programs, which are built for it too (the demo is a native server).
WASM_PKGS := ./wisp/... ./internal/buffer/... ./wasm/...
EXAMPLES   = $(shell $(GO) list ./examples/... | grep -v /examples/demo)

.PHONY: help run test fuzz wasm bench check deps

help: ## list the targets
	@awk -F':.*## ' '/^[a-z]+:.*## /{printf "  make %-6s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

run: wasm ## build main.wasm and serve the demo page and its bridge on http://localhost:8080
	$(GO) run ./examples/demo -addr $(ADDR)

# wasmbuild OUT LEVEL ARGS... builds a js/wasm program into OUT and writes
# OUT.gz and OUT.br (brotli at LEVEL), but only when the program changed:
# Go's builds are reproducible, and brotli -q 11 takes half a minute here.
WASMBUILD = wasmbuild() { out=$$1 q=$$2; shift 2; \
	GOOS=js GOARCH=wasm $(GO) build -trimpath -ldflags='-s -w' -o $$out.new "$$@" || return 1; \
	if cmp -s $$out.new $$out && [ -f $$out.gz ] && { [ -f $$out.br ] || ! command -v brotli >/dev/null; }; then \
		rm $$out.new; return 0; fi; \
	mv $$out.new $$out && echo "compressing $$out" && gzip -9 -k -f $$out && \
	{ ! command -v brotli >/dev/null || brotli -f -q $$q $$out; }; }

# NOINLINE lists the packages main.wasm compiles without inlining: the
# control plane (our own wasm packages, handshakes, certificates, formatting,
# reflection, addresses), which runs a few times per socket. It makes
# main.wasm 99 KB smaller in brotli (1,574,126 to 1,475,494 bytes). The data
# plane keeps inlining: the runtime, sync, bytes, io, syscall/js, safejs,
# wisp, the record ciphers (AES-GCM, ChaCha20-Poly1305, SHA-2) and bigmod,
# which RSA handshakes spend their time in. Inlining off in ChaCha20 alone
# made TLS three times slower, so check the TLS figure
# (go test ./js/jstest -run Figures -figures -v) when this list changes.
NOINLINE = github.com/wasmnet/wasmnet/wasm/... crypto/tls crypto/x509/... \
	crypto/ecdsa crypto/rsa crypto/hpke crypto/ecdh crypto/elliptic \
	crypto/internal/fips140/nistec crypto/internal/fips140/ecdsa \
	crypto/internal/fips140/rsa crypto/internal/fips140/mlkem \
	crypto/internal/fips140/edwards25519 vendor/golang.org/x/crypto/cryptobyte/... \
	encoding/asn1 math/big reflect internal/reflectlite fmt strconv internal/strconv \
	time slices strings sort maps iter unicode/... context errors os net net/...

wasm: ## build main.wasm and each example page's main.wasm (with .gz and .br); copy Go's wasm_exec.js and write the default TLS roots into js/
	@# main.wasm: no symbol table, and no inlining in NOINLINE. Its brotli
	@# is the best (-q 11), since its size is what every page pays; the
	@# example pages' is quicker to make (-q 9).
	@$(WASMBUILD); set -e; \
	echo "building main.wasm"; wasmbuild main.wasm 11 $(foreach p,$(NOINLINE),-gcflags=$(p)=-l) ./wasm; \
	for d in examples/*/; do if [ -f $$d/index.html ]; then \
		echo "building $${d}main.wasm"; wasmbuild $${d}main.wasm 9 ./$$d; fi; done
	cp "$(GOROOT)/lib/wasm/wasm_exec.js" js/wasm_exec.js
	$(GO) run ./wasm/internal/roots/gen > js/roots.pem
	gzip -9 -k -f js/roots.pem
	if command -v brotli >/dev/null; then brotli -f -q 11 js/roots.pem; fi

deps: ## install what the tests need: npm packages, and Debian's chromium if missing
	.ci/deps

test: deps wasm ## run every test: native with -race, inside wasm (wazero, Node), interop, browsers; tsc on js/
	js/node_modules/.bin/tsc --noEmit -p js/typecheck
	$(GO) test -race -count=1 -timeout 30m ./...
	$(GO) test -count=1 -timeout 10m -run '^(TestLoad|TestSlowReadersBounded)$$' -v ./bridge/ # load: too slow under -race

fuzz: ## fuzz the packet decoder and the bridge's sessions, about 20s each (FUZZTIME=5m for longer)
	$(GO) test -run '^$$' -fuzz '^FuzzDecode$$' -fuzztime $(or $(FUZZTIME),$(FUZZ_DECODE)) ./wisp/
	$(GO) test -run '^$$' -fuzz '^FuzzSession$$' -fuzztime $(or $(FUZZTIME),$(FUZZ_SESSION)) ./bridge/

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
	GOOS=js GOARCH=wasm $(GO) vet ./...
	GOOS=wasip1 GOARCH=wasm $(GO) vet ./...
	$(STATICCHECK) ./...
	GOOS=js GOARCH=wasm $(STATICCHECK) $(WASM_PKGS)
	GOOS=wasip1 GOARCH=wasm $(STATICCHECK) $(WASM_PKGS)
	@test -z "$$(gofmt -l .)" || { gofmt -l .; echo "gofmt needed"; exit 1; }
	$(GO) mod tidy
	git diff --exit-code go.mod go.sum
