// Command etalase runs etalase's local tooling: the emulators, the local
// stack and the checks around them.
//
// Usage:
//
//	go run ./infra/cmd/etalase <command> [arguments]
//
// Each command lives in a file of its own; main only dispatches.
package main

import (
	"fmt"
	"os"
)

const usage = `usage: etalase <command> [arguments]

commands:
  env [-data DIR] [-v] -- CMD ARGS...
        start DynamoDB Local and the SQS emulator, run CMD with
        ETALASE_DYNAMODB_ENDPOINT, ETALASE_SQS_ENDPOINT and
        ETALASE_REQUIRE_EMULATORS=1 set, stop the emulators, exit with CMD's status
  dev [-port N] [-data DIR] [-seed]
        run both accounts locally (make dev; -seed or SEED=1: with the demo shop)
  seed [-url URL]
        fill a running make dev with the demo shop (sellers, products, creators, promotions)
  token [-sub S] [-scopes a,b]
        mint an access token from a running make dev's identity provider
  compliance [-template FILE] [-json]
        the account-boundary report (make compliance)
  bench [-quick] [-out DIR]
        measure cold starts and more; report in bench-out/ (make bench)
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	cmd, args := os.Args[1], os.Args[2:]
	switch cmd {
	case "env":
		os.Exit(runEnv(args))
	case "compliance":
		os.Exit(runCompliance(args))
	case "dev":
		os.Exit(runDev(args))
	case "token":
		os.Exit(runToken(args))
	case "seed":
		os.Exit(runSeed(args))
	case "bench":
		os.Exit(runBench(args))
	case "help", "-h", "-help", "--help":
		fmt.Print(usage)
	default:
		fmt.Fprintf(os.Stderr, "etalase: unknown command %q\n\n%s", cmd, usage)
		os.Exit(2)
	}
}
