# The one test command: `make test` installs and builds the real components the tests drive,
# checks formatting, vets and lints, and runs every test tier with the race detector.
# CI runs it through .ci/run with CI=true, where a test missing a real component fails.

TESTBIN := $(CURDIR)/.testbin/bin
export PATH := $(TESTBIN):$(PATH)
export KUBEBUILDER_ASSETS := $(TESTBIN)
export WEBINFRA_TESTBIN := $(TESTBIN)

GO_TEST_FLAGS ?= -race -count=1 -timeout 30m

.PHONY: test testbin fmt vet lint unit bench deploy

test: testbin fmt vet lint unit bench

## testbin: install Debian packages and build the pinned binaries into .testbin/bin (idempotent)
testbin:
	./scripts/testbin.sh

## fmt: fail when a file is not gofmt-formatted
fmt:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './.testbin/*')); \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi

vet:
	go vet ./...

## lint: staticcheck, pinned in hack/testbin/staticcheck
lint: testbin
	staticcheck ./...

unit:
	go test $(GO_TEST_FLAGS) ./...

## bench: run every benchmark once; they check their targets (call counts, no 429) and fail if missed
bench:
	go test -run '^$$' -bench . -benchtime 1x ./...

## deploy: the main job against the simulated services
deploy:
	go run ./examples/deploy
