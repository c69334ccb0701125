package main

import (
	"reflect"
	"testing"
	"time"
)

func TestParseBudget(t *testing.T) {
	tests := []struct {
		in    string
		cases int
		dur   time.Duration
		bad   bool
	}{
		{in: "200", cases: 200},
		{in: "60s", dur: time.Minute},
		{in: "1m30s", dur: 90 * time.Second},
		{in: "0", bad: true},
		{in: "-5", bad: true},
		{in: "-1s", bad: true},
		{in: "lots", bad: true},
	}
	for _, tt := range tests {
		cases, dur, err := parseBudget(tt.in)
		if (err != nil) != tt.bad || cases != tt.cases || dur != tt.dur {
			t.Errorf("parseBudget(%q) = %d, %v, %v; want %d, %v, error %v", tt.in, cases, dur, err, tt.cases, tt.dur, tt.bad)
		}
	}
}

func TestConfirmMethods(t *testing.T) {
	tests := []struct {
		in   []string
		want []string
		bad  bool
	}{
		{in: nil, want: nil},
		{in: []string{"spawn"}, want: []string{"spawn"}},
		{in: []string{"spawn", "forkserver"}, want: []string{"spawn", "forkserver"}},
		{in: []string{"fork"}, bad: true},
		{in: []string{"thread"}, bad: true},
	}
	for _, tt := range tests {
		got, err := confirmMethods(tt.in)
		if (err != nil) != tt.bad || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("confirmMethods(%v) = %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.bad)
		}
	}
}
