module github.com/forkfuzz/forkfuzz

go 1.26.8

require (
	github.com/leanovate/gopter v0.2.11
	github.com/sourcegraph/conc v0.3.0
	gopkg.in/yaml.v3 v3.0.1
)

require (
	go.uber.org/atomic v1.7.0 // indirect
	go.uber.org/multierr v1.9.0 // indirect
)
