// Package bench is `make bench`: it starts the emulators and the whole template through
// the local runner, runs a list of stages that each measure one thing and own one or
// more sections of the report, and writes the report (Markdown, JSON and SVG charts)
// into a git-ignored folder.
//
// A stage is a function of an *Env (the running system, the run's counts, a progress
// printer) that returns its Sections. To add one, write it in a file of its own and
// append it to DefaultStages. Figures that depend on the machine are given as ratios to
// a baseline measured in the same run (the cold start of a hello-world function, a bare
// DynamoDB Local call), because the machine is shared and noisy; counts are medians and
// p90s, never single runs.
package bench
