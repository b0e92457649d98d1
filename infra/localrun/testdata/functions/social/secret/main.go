// Command secret is a test-only social function: it reads its own account's secrets
// from SSM and tries to read one of the other account's, which it must not see.
package main

import "github.com/etalase/etalase/infra/localrun/testdata/functions/internal/secretprobe"

func main() { secretprobe.Run() }
