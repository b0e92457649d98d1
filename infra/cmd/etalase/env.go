package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/etalase/etalase/infra/emulator"
)

const envUsage = `usage: etalase env [-data DIR] [-v] -- CMD ARGS...

Installs (first time only, into .cache/emulators at the repository root) and
starts DynamoDB Local and the fauxqs SQS emulator on free 127.0.0.1 ports, runs
CMD with ETALASE_DYNAMODB_ENDPOINT, ETALASE_SQS_ENDPOINT and
ETALASE_REQUIRE_EMULATORS=1 added to the environment, then stops the emulators
and exits with CMD's exit status. SIGINT and SIGTERM are passed on to CMD; the
emulators are stopped in every case.

The emulators' output goes to .cache/emulators/logs/env-PID.log, which is
removed when CMD succeeds.

flags:
`

// runEnv implements `etalase env` and returns the process exit code.
func runEnv(args []string) int {
	fs := flag.NewFlagSet("env", flag.ContinueOnError)
	dataDir := fs.String("data", "", "keep DynamoDB Local's tables in `DIR` (default: in memory)")
	verbose := fs.Bool("v", false, "also copy the emulators' output to stderr")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), envUsage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	command := fs.Args()
	if len(command) == 0 {
		fmt.Fprintln(os.Stderr, "etalase env: no command given")
		fs.Usage()
		return 2
	}

	// Signals: before the command runs they cancel start-up; afterwards they
	// are forwarded to the command. Either way the emulators are stopped below.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var (
		mu       sync.Mutex
		child    *os.Process
		received os.Signal
	)
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	go func() {
		for sig := range sigs {
			mu.Lock()
			if received == nil {
				received = sig
			}
			if child != nil {
				child.Signal(sig)
			} else {
				cancel()
			}
			mu.Unlock()
		}
	}()

	wd, err := os.Getwd()
	if err != nil {
		return fail(err)
	}
	root, err := emulator.RepoRoot(wd)
	if err != nil {
		return fail(err)
	}
	cacheDir := filepath.Join(root, ".cache")

	begin := time.Now()
	if _, err := emulator.Install(ctx, cacheDir, os.Stderr); err != nil {
		return failStart(ctx, &mu, &received, err)
	}
	installed := time.Since(begin)

	logDir := filepath.Join(cacheDir, "emulators", "logs")
	if err := os.MkdirAll(logDir, 0o755); err != nil {
		return fail(err)
	}
	logPath := filepath.Join(logDir, "env-"+strconv.Itoa(os.Getpid())+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return fail(err)
	}
	defer logFile.Close()
	var log io.Writer = logFile
	if *verbose {
		log = io.MultiWriter(logFile, os.Stderr)
	}

	stack, err := emulator.Start(ctx, emulator.Options{CacheDir: cacheDir, DataDir: *dataDir, Log: log})
	if err != nil {
		fmt.Fprintf(os.Stderr, "emulators: output in %s\n", logPath)
		return failStart(ctx, &mu, &received, err)
	}
	fmt.Fprintf(os.Stderr, "emulators: DynamoDB Local on %s, SQS on %s (install %s, ready after %s)\n",
		stack.DynamoDBEndpoint, stack.SQSEndpoint, round(installed), round(time.Since(begin)))

	code := runChild(command, stack, &mu, &child, &received)

	if err := stack.Stop(); err != nil {
		fmt.Fprintf(os.Stderr, "emulators: stop: %v\n", err)
		if code == 0 {
			code = 1
		}
	} else {
		fmt.Fprintln(os.Stderr, "emulators: stopped")
	}
	logFile.Close()
	if code == 0 {
		os.Remove(logPath)
	} else {
		fmt.Fprintf(os.Stderr, "emulators: output kept in %s\n", logPath)
	}
	return code
}

// runChild runs command with the stack's environment and returns its exit
// code (128+N when a signal N ended it, 127 when it could not start).
func runChild(command []string, stack *emulator.Stack, mu *sync.Mutex, child **os.Process, received *os.Signal) int {
	cmd := exec.Command(command[0], command[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Env = append(os.Environ(), stack.Environ()...)
	cmd.Env = append(cmd.Env, emulator.EnvRequireEmulators+"=1")

	mu.Lock()
	if *received != nil {
		mu.Unlock()
		return 128 + signalNumber(*received)
	}
	err := cmd.Start()
	if err == nil {
		*child = cmd.Process
	}
	mu.Unlock()
	if err != nil {
		fmt.Fprintf(os.Stderr, "etalase env: %v\n", err)
		return 127
	}
	err = cmd.Wait()
	mu.Lock()
	*child = nil
	mu.Unlock()
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) {
		fmt.Fprintf(os.Stderr, "etalase env: %v\n", err)
		return 1
	}
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return cmd.ProcessState.ExitCode()
}

// failStart reports a start-up error; start-up cut short by a signal exits
// with 128+N as the command would have.
func failStart(ctx context.Context, mu *sync.Mutex, received *os.Signal, err error) int {
	mu.Lock()
	sig := *received
	mu.Unlock()
	if sig != nil && ctx.Err() != nil {
		fmt.Fprintf(os.Stderr, "emulators: start-up interrupted by %v\n", sig)
		return 128 + signalNumber(sig)
	}
	return fail(err)
}

func fail(err error) int {
	fmt.Fprintf(os.Stderr, "etalase env: %v\n", err)
	return 1
}

func signalNumber(sig os.Signal) int {
	if s, ok := sig.(syscall.Signal); ok {
		return int(s)
	}
	return 1
}

func round(d time.Duration) time.Duration { return d.Round(10 * time.Millisecond) }
