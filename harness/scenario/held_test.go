package scenario

import (
	"reflect"
	"testing"
)

func TestHeldAtFork(t *testing.T) {
	tests := []struct {
		name, yaml string
		want       []Hold
	}{
		{"parked inside", `
resources: {L: lock}
threads:
  w: [{park: {event: e, in: L}}]
main: [{start: w}, {wait: e}, {fork: {via: process, child: [{use: L}]}}]`,
			[]Hold{{Resource: "L", Thread: "w", Inside: true, Step: 0}}},
		{"taken before the park, released after", `
resources: {A: lock, B: rlock}
threads:
  w: [{take: B}, {take: A}, {park: e}, {release: A}, {release: B}]
main: [{start: w}, {wait: e}, {fork: {via: process, child: [{use: A}]}}]`,
			[]Hold{{Resource: "B", Thread: "w", Step: 0}, {Resource: "A", Thread: "w", Step: 1}}},
		{"released before the park: nothing", `
resources: {L: lock}
threads:
  w: [{use: L}, {take: L}, {release: L}, {park: e}]
main: [{start: w}, {wait: e}, {fork: {via: process, child: [{use: L}]}}]`,
			nil},
		{"main holds what it took", `
resources: {R: rlock}
main: [{take: R}, {fork: {via: process, child: [{use: R}]}}, {release: R}]`,
			[]Hold{{Resource: "R", Thread: "main", Step: 0}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Parse("held.yaml", []byte("forkfuzz: 1\nname: held\n"+tt.yaml))
			if err != nil {
				t.Fatal(err)
			}
			if got := s.HeldAtFork(); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("HeldAtFork() = %+v, want %+v", got, tt.want)
			}
		})
	}
}
