# etalase — the two commands a newcomer needs are `make dev` and `make test`.
# Everything else here is either what they call or what `sam build` calls.

SHELL := /bin/bash
GO ?= go
# The CLI behind these targets; built, then run, so that Ctrl-C reaches it directly.
ETALASE_BIN := .cache/bin/etalase
ETALASE = $(GO) build -o $(ETALASE_BIN) ./infra/cmd/etalase && $(ETALASE_BIN)

# `sam build` runs `make build-<LogicalId>` with ARTIFACTS_DIR set, for arm64 Lambda.
ARTIFACTS_DIR ?= .cache/artifacts
LAMBDA_BUILD = CGO_ENABLED=0 GOOS=linux GOARCH=arm64 $(GO) build -tags lambda.norpc -trimpath -ldflags='-s -w' -o $(ARTIFACTS_DIR)/bootstrap

.PHONY: dev test test-unit fmt-check vet compliance emulators token bench bench-quick clean

## dev: run both accounts locally (emulators, provisioning, functions, HTTP API).
dev:
	@$(GO) build -o $(ETALASE_BIN) ./infra/cmd/etalase
	@exec $(ETALASE_BIN) dev

## test: gofmt check, go vet, every test with the emulators running, the boundary check.
test: fmt-check vet
	$(ETALASE) env -- $(GO) test -count=1 -timeout 30m ./...
	$(ETALASE) compliance

## test-unit: unit tests only, no emulators (integration tests say why they did not run).
test-unit:
	$(GO) test ./...

fmt-check:
	@out=$$(gofmt -l $$(git ls-files -co --exclude-standard '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

## compliance: the account-boundary report (DESIGN section 1).
compliance:
	$(ETALASE) compliance

## token: an access token from a running make dev (SUB=seller-1 SCOPES=seller).
SUB ?= buyer-1
SCOPES ?= buyer
token:
	@$(ETALASE) token -sub $(SUB) -scopes $(SCOPES)

## emulators: install DynamoDB Local and the SQS emulator into .cache (make test does this too).
emulators:
	$(ETALASE) env -- true

clean:
	rm -rf .cache/artifacts .cache/bin

# ---- sam build targets: one per function in template.yaml --------------------------

build-CommerceCatalogFunction:
	$(LAMBDA_BUILD) ./functions/commerce/catalog
