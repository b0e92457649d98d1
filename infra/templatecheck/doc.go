// Package templatecheck holds the rules that template.yaml, the Makefile and the
// OpenAPI documents under api/ must keep; its tests run every rule against the
// repository's files and against small broken templates, so that a rule that stops
// catching what it should fails too.
package templatecheck
