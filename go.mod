module github.com/forkfuzz/forkfuzz

go 1.26.8

require (
	github.com/leanovate/gopter v0.2.11 // indirect
	github.com/sourcegraph/conc v0.3.0 // indirect
	gopkg.in/yaml.v3 v3.0.1 // indirect
)
