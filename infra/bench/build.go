package bench

import (
	"context"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"

	"github.com/etalase/etalase/infra/localrun"
)

// LambdaGOOS and LambdaGOARCH are what Lambda runs (provided.al2023 on arm64).
const (
	LambdaGOOS   = "linux"
	LambdaGOARCH = "arm64"
)

// LambdaBuildFlags are the go build flags of the deployed functions, as the Makefile's
// LAMBDA_BUILD has them (a test keeps the two in step), with CGO_ENABLED=0.
var LambdaBuildFlags = []string{"-tags", "lambda.norpc", "-trimpath", "-ldflags=-s -w"}

// goBuild builds main packages (paths relative to the module root, e.g.
// "./functions/commerce/catalog") into dir with the given flags, for the Lambda platform
// when lambda is set (the host's otherwise), in one go build so that the links run in
// parallel. Each binary is named after its package's folder, which must be unique in
// one call. It returns each package's binary path.
func goBuild(ctx context.Context, root, dir string, flags []string, lambda bool, pkgs []string) (map[string]string, error) {
	out := map[string]string{}
	if len(pkgs) == 0 {
		return out, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	names := map[string]string{}
	for _, p := range pkgs {
		name := filepath.Base(filepath.FromSlash(p))
		if other, ok := names[name]; ok {
			return nil, fmt.Errorf("build: %s and %s would both be %s", other, p, name)
		}
		names[name] = p
		out[p] = filepath.Join(dir, name)
	}
	env := append(os.Environ(), "CGO_ENABLED=0")
	if lambda {
		env = append(env, "GOOS="+LambdaGOOS, "GOARCH="+LambdaGOARCH)
	}
	args := append(append([]string{"build"}, flags...), "-o", dir+string(filepath.Separator))
	args = append(args, pkgs...)
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = root
	cmd.Env = env
	if msg, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("go %s: %w\n%s", strings.Join(args, " "), err, msg)
	}
	return out, nil
}

// hostFlags are the flags of the binaries the local runner runs.
func hostFlags() []string { return localrun.BuildFlags }

// fileSize returns a file's size in bytes, or -1.
func fileSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return -1
	}
	return fi.Size()
}

// builds are the binaries that Env.Binaries returns, built once in the background.
type builds struct {
	once   sync.Once
	done   chan struct{}
	host   map[string]string // package → host binary (the extra programs only)
	lambda map[string]string // package → Lambda binary
	err    error
}

// extraPackages are the programs the cold-start stage measures besides the functions;
// hostOnlyPackages are only run, never deployed.
var (
	extraPackages    = []string{helloPkg, sdkDefaultPkg, sdkLeanPkg}
	hostOnlyPackages = []string{tlsRootsPkg}
)

// startBuilds starts, once, building the extra programs for the host and every function
// folder and extra program for Lambda. Run calls it first thing, so that the builds
// overlap the emulators' start; Binaries waits for them.
func (e *Env) startBuilds(ctx context.Context) {
	e.builds.once.Do(func() {
		e.builds.done = make(chan struct{})
		go func() {
			defer close(e.builds.done)
			e.builds.host, e.builds.lambda, e.builds.err = buildAll(ctx, e.Root, e.WorkDir)
		}()
	})
}

// waitBuilds waits for the background builds, if they were started.
func (e *Env) waitBuilds() {
	if e.builds.done != nil {
		<-e.builds.done
	}
}

// Binaries returns the host binaries of the extra programs (the hello-world and the
// reference programs) and the Lambda (linux/arm64) binaries of those and of every
// function folder, by package path relative to the module root
// ("./functions/commerce/catalog").
func (e *Env) Binaries(ctx context.Context) (host, lambda map[string]string, err error) {
	e.startBuilds(ctx)
	select {
	case <-e.builds.done:
		return e.builds.host, e.builds.lambda, e.builds.err
	case <-ctx.Done():
		return nil, nil, ctx.Err()
	}
}

// buildAll builds what Binaries returns, one go build per output folder.
func buildAll(ctx context.Context, root, work string) (host, lambda map[string]string, err error) {
	host, err = goBuild(ctx, root, filepath.Join(work, "host-extra"), hostFlags(), false, append(extraPackages, hostOnlyPackages...))
	if err != nil {
		return nil, nil, err
	}
	lambda, err = goBuild(ctx, root, filepath.Join(work, "lambda-extra"), LambdaBuildFlags, true, extraPackages)
	if err != nil {
		return nil, nil, err
	}
	mains, err := filepath.Glob(filepath.Join(root, "functions", "*", "*", "main.go"))
	if err != nil {
		return nil, nil, err
	}
	bySide := map[string][]string{}
	for _, m := range mains {
		dir := filepath.Dir(m)
		side := filepath.Base(filepath.Dir(dir))
		bySide[side] = append(bySide[side], "./"+filepath.ToSlash(filepath.Join("functions", side, filepath.Base(dir))))
	}
	for side, pkgs := range bySide {
		bins, err := goBuild(ctx, root, filepath.Join(work, "lambda-"+side), LambdaBuildFlags, true, pkgs)
		if err != nil {
			return nil, nil, err
		}
		maps.Copy(lambda, bins)
	}
	return host, lambda, nil
}
