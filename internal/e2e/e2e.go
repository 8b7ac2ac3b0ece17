// Package e2e holds end-to-end tests: landing files through extract, rollup and the
// real HTTP router, compared with the expected answers of testdata/examples.
package e2e
