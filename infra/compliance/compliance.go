// Package compliance checks the boundary between the social and the commerce account
// (DESIGN.md section 1) and reports on it.
//
// Two things can break the boundary. The template can give a function of one side a
// permission on the other side's resources, or grant something across accounts beyond
// the one allowed crossing (commerce's relay role may sqs:SendMessage to the social
// inbox queue). And the Go code can let a social function link commerce code, or the
// reverse. The template checks (Analysis) run over a parsed template; the import check
// (CheckImports) is a pure function over a package graph that LoadPackageGraph fills
// from `go list`. The contract check (CheckContract) walks the cross-account events'
// Go types and JSON Schemas for buyer data (rule 3). Run puts them all into a Report
// that `etalase compliance` prints and CI fails on.
package compliance

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/etalase/etalase/infra/samtemplate"
	"github.com/etalase/etalase/shared/contract"
)

// Rules names the parts of the template that the boundary rules talk about.
// DefaultRules matches template.yaml; tests may point the checks at other names.
type Rules struct {
	// SideParam is the parameter that selects the account a stack deploys into.
	SideParam string
	// Sides are SideParam's values, in report order. There must be two.
	Sides []string
	// PeerParam is the parameter holding the other account's id.
	PeerParam string
	// InboxSide owns the one cross-account resource; SenderSide may send to it.
	InboxSide, SenderSide string
	// InboxQueue is the logical id of the one queue the peer account may send to.
	InboxQueue string
	// InboxPolicy is the logical id of the only resource policy allowed to name the
	// peer account.
	InboxPolicy string
	// RelayRoleName is an Fn::Sub format for the name of the sender's role that the
	// inbox policy must name in its aws:PrincipalArn condition.
	RelayRoleName string
}

// DefaultRules returns the rules for etalase's template.yaml.
func DefaultRules() Rules {
	return Rules{
		SideParam:     "Side",
		Sides:         []string{"social", "commerce"},
		PeerParam:     "PeerAccountId",
		InboxSide:     "social",
		SenderSide:    "commerce",
		InboxQueue:    "SocialInboxQueue",
		InboxPolicy:   "SocialInboxQueuePolicy",
		RelayRoleName: "${NamePrefix}-commerce-relay",
	}
}

// Options says what Run checks.
type Options struct {
	// RepoDir is the module root (where go.mod is); go list runs there.
	RepoDir string
	// TemplatePath is the SAM template; relative paths are taken from RepoDir.
	TemplatePath string
	// Rules default to DefaultRules when zero.
	Rules Rules
}

// Run loads the template and the package graph and runs every check.
// An error means the check could not run at all; violations are in the Report.
func Run(ctx context.Context, opts Options) (*Report, error) {
	if opts.Rules.SideParam == "" {
		opts.Rules = DefaultRules()
	}
	path := opts.TemplatePath
	if !filepath.IsAbs(path) {
		path = filepath.Join(opts.RepoDir, path)
	}
	tpl, err := samtemplate.Load(path)
	if err != nil {
		return nil, err
	}
	a, err := Analyze(tpl, opts.Rules)
	if err != nil {
		return nil, fmt.Errorf("analyze template: %w", err)
	}
	g, err := LoadPackageGraph(ctx, opts.RepoDir)
	if err != nil {
		return nil, err
	}
	rep := a.Report(opts.TemplatePath)
	imp := CheckImports(g, opts.Rules.Sides)
	rep.Module = g.Module
	rep.ImportEdges = imp.Edges
	rep.Packages = len(g.Roots)
	rep.Checks = append(rep.Checks, imp.Check)
	rep.Checks = append(rep.Checks, CheckContract(contract.CrossAccountEvents(), contract.BoundaryProblems()))
	return rep, nil
}
