package bench

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strings"
)

// importGraph maps each package to the packages it imports, as go list reports them.
type importGraph map[string][]string

// loadImports returns the import graph of the given main packages and all their
// dependencies, with the build tags of the functions.
func loadImports(ctx context.Context, root string, pkgs []string) (importGraph, error) {
	args := []string{"list", "-deps", "-tags", "lambda.norpc", "-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`}
	cmd := exec.CommandContext(ctx, "go", append(args, pkgs...)...)
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go list: %w: %s", err, strings.TrimSpace(stderr.String()))
	}
	g := importGraph{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 0, 64*1024), 4<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) > 0 {
			g[f[0]] = f[1:]
		}
	}
	return g, sc.Err()
}

// chain returns the shortest import chain from one package to another (both included),
// or nil when from does not depend on to.
func (g importGraph) chain(from, to string) []string {
	prev := map[string]string{from: ""}
	queue := []string{from}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		if p == to {
			var path []string
			for q := to; q != ""; q = prev[q] {
				path = append([]string{q}, path...)
			}
			return path
		}
		for _, next := range g[p] {
			if _, seen := prev[next]; !seen {
				prev[next] = p
				queue = append(queue, next)
			}
		}
	}
	return nil
}
