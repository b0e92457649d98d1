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

.PHONY: dev dev-demo seed test test-unit fmt-check vet compliance fuzz-smoke reliability emulators token bench bench-quick clean

## dev: run both accounts locally (emulators, provisioning, functions, HTTP API, storefront
## at http://127.0.0.1:3000/). SEED=1 fills the shop with the demo catalog.
dev:
	@$(GO) build -o $(ETALASE_BIN) ./infra/cmd/etalase
	@exec $(ETALASE_BIN) dev

## dev-demo: make dev with the demo shop (sellers, products, creators, promotions).
dev-demo:
	@$(GO) build -o $(ETALASE_BIN) ./infra/cmd/etalase
	@exec $(ETALASE_BIN) dev -seed

## seed: fill an already running make dev with the demo shop.
seed:
	@$(ETALASE) seed

## test: gofmt check, go vet, every test with the emulators running, the boundary check,
## and a few seconds of fuzzing per fuzz target.
test: fmt-check vet
	$(ETALASE) env -- $(GO) test -count=1 -timeout 30m ./...
	$(ETALASE) compliance
	$(GO) run ./infra/cmd/fuzzsmoke -fuzztime $(FUZZTIME)

## fuzz-smoke: every Go fuzz target (func FuzzX in a _test.go) for FUZZTIME each, with
## the execs each tried and a summary line. FUZZ=regexp picks targets or packages.
FUZZTIME ?= 3s
FUZZ ?=
fuzz-smoke:
	$(GO) run ./infra/cmd/fuzzsmoke -fuzztime $(FUZZTIME) -run '$(FUZZ)'

## reliability: the reliability suite alone (infra/reliability: no oversell, webhook storm,
## injected faults and killed processes), its FIGURES lines printed and the whole log kept
## in .cache/reliability.log. HEAVY=1 runs the heavier variants.
HEAVY ?=
reliability:
	@mkdir -p .cache
	@$(ETALASE) env -- $(GO) test -count=1 -v -timeout 30m ./infra/reliability $(if $(HEAVY),-heavy) > .cache/reliability.log 2>&1; \
	rc=$$?; grep -E '^(--- |ok|FAIL|PASS)|FIGURES|invariant violated|not settled' .cache/reliability.log; exit $$rc

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

## bench: cold starts (and more) of every function; report in bench-out/ (a few minutes).
bench:
	@$(GO) build -o $(ETALASE_BIN) ./infra/cmd/etalase
	@exec $(ETALASE_BIN) bench

## bench-quick: the same report on smaller counts (about a minute); indicative only.
bench-quick:
	@$(GO) build -o $(ETALASE_BIN) ./infra/cmd/etalase
	@exec $(ETALASE_BIN) bench -quick

## emulators: install DynamoDB Local and the SQS emulator into .cache (make test does this too).
emulators:
	$(ETALASE) env -- true

clean:
	rm -rf .cache/artifacts .cache/bin

# ---- sam build targets: one per function in template.yaml --------------------------

build-CommerceCatalogFunction:
	$(LAMBDA_BUILD) ./functions/commerce/catalog

build-CommerceCartFunction:
	$(LAMBDA_BUILD) ./functions/commerce/cart

build-CommerceRelayFunction:
	$(LAMBDA_BUILD) ./functions/commerce/relay

build-CommerceCheckoutFunction:
	$(LAMBDA_BUILD) ./functions/commerce/checkout

build-CommerceOrdersFunction:
	$(LAMBDA_BUILD) ./functions/commerce/orders

build-CommerceExpiryFunction:
	$(LAMBDA_BUILD) ./functions/commerce/expiry

build-CommercePaymentWebhookFunction:
	$(LAMBDA_BUILD) ./functions/commerce/paymentwebhook

build-CommercePaymentsFunction:
	$(LAMBDA_BUILD) ./functions/commerce/payments

build-CommerceReconcileFunction:
	$(LAMBDA_BUILD) ./functions/commerce/reconcile

build-SocialPromotionFunction:
	$(LAMBDA_BUILD) ./functions/social/promotion

build-SocialInboxFunction:
	$(LAMBDA_BUILD) ./functions/social/inbox
