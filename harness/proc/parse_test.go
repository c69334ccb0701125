package proc

import (
	"strings"
	"testing"
)

func TestParseStat(t *testing.T) {
	tail := " 0 0 -1 4194304 100 0 0 0 0 0 0 0 20 0 %s 0 816761 3133440 380 18446744073709551615"
	tests := []struct {
		line string
		want Stat
		err  bool
	}{
		{"5620 (cat) R 5614 5614 3618 0 -1 4194304 100 0 0 0 0 0 0 0 20 0 1 0 816761 3133440 380", Stat{Pid: 5620, Comm: "cat", State: 'R', PPid: 5614, PGrp: 5614, NumThreads: 1, StartTime: 816761}, false},
		{"42 (a) b (c)) S 1 40" + strings.Replace(tail, "%s", "3", 1), Stat{Pid: 42, Comm: "a) b (c)", State: 'S', PPid: 1, PGrp: 40, NumThreads: 3, StartTime: 816761}, false},
		{"7 (python3) Z 6 6 0 0 -1 4194304 100 0 0 0 0 0 0 0 20 0 1 0 99 0 0", Stat{Pid: 7, Comm: "python3", State: 'Z', PPid: 6, PGrp: 6, NumThreads: 1, StartTime: 99}, false},
		{"7 python3 S 1 1", Stat{}, true},
		{"7 (python3) S 1 1 0", Stat{}, true},
		{"x (python3) S 1 1 0 0 -1 4194304 100 0 0 0 0 0 0 0 20 0 1 0 99 0 0", Stat{}, true},
	}
	for _, tc := range tests {
		got, err := ParseStat([]byte(tc.line + "\n"))
		if (err != nil) != tc.err || got != tc.want {
			t.Errorf("ParseStat(%q) = %+v, %v; want %+v, error %v", tc.line, got, err, tc.want, tc.err)
		}
	}
}

func TestParseSchedstat(t *testing.T) {
	tests := []struct {
		in   string
		want uint64
		err  bool
	}{
		{"154342942 100989 27\n", 154342942, false},
		{"0 0 1\n", 0, false},
		{"12 3\n", 0, true},
		{"x 3 4\n", 0, true},
	}
	for _, tc := range tests {
		got, err := ParseSchedstat([]byte(tc.in))
		if (err != nil) != tc.err || got != tc.want {
			t.Errorf("ParseSchedstat(%q) = %d, %v", tc.in, got, err)
		}
	}
}

func TestParseSyscall(t *testing.T) {
	tests := []struct {
		in      string
		forever bool // a private futex wait without timeout
		err     bool
	}{
		{"202 0x56021ac75720 0x189 0x0 0x0 0x0 0xffffffff 0x7ffdd60aeb20 0x7f88630a3f16", true, false}, // CPython lock
		{"202 0x55deb0bcfe50 0x80 0x0 0x0 0x0 0x0 0x7f8fcb568aa0 0x7f8fcc252f16", true, false},         // SQLite mutex: FUTEX_WAIT|PRIVATE
		{"202 0x7f0 0x86 0x0 0x0 0x0 0x0 0x1 0x2", true, false},                                        // LOCK_PI|PRIVATE
		{"202 0x7f0 0x8d 0x0 0x0 0x0 0x0 0x1 0x2", true, false},                                        // LOCK_PI2|PRIVATE
		{"202 0x7f45e0 0x109 0x0 0x0 0x0 0xffffffff 0x1 0x2", false, false},                            // multiprocessing.Lock: shared
		{"202 0x56021ac75720 0x189 0x0 0x7ffd0000 0x0 0xffffffff 0x1 0x2", false, false},               // with a timeout
		{"202 0x7f0 0x81 0x1 0x0 0x0 0x0 0x1 0x2", false, false},                                       // FUTEX_WAKE
		{"0 0x3 0x55deb0c36b60 0x2000 0x0 0x0 0x0 0x7ffec3033e70 0x7f8fcc2c52ec", false, false},        // read
		{"230 0x1 0x0 0x7ffc 0x0 0x0 0x0 0x1 0x2", false, false},                                       // clock_nanosleep
		{"running", false, false},
		{"-1 0x7ffc 0x7f88", false, false},
		{"202 0x1 0x189", false, true},
		{"", false, true},
		{"futex 0x1", false, true},
	}
	for _, tc := range tests {
		got, err := ParseSyscall([]byte(tc.in + "\n"))
		if (err != nil) != tc.err {
			t.Errorf("ParseSyscall(%q) error %v, want error %v", tc.in, err, tc.err)
			continue
		}
		if f := got.foreverPrivate(); f != tc.forever && futexNr == 202 {
			t.Errorf("ParseSyscall(%q).foreverPrivate() = %v, want %v", tc.in, f, tc.forever)
		}
	}
}

func TestEvidenceString(t *testing.T) {
	e := Evidence{Pid: 1234, Threads: []ThreadState{{Tid: 1234, Comm: "python3", Op: "0x189", Uaddr: "0x5602"}}}
	want := "pid 1234: 1 thread, futex wait op 0x189 (private, no timeout), no CPU time between two reads"
	if got := e.String(); got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	e.Threads = append(e.Threads, ThreadState{Tid: 1240, Op: "0x189"}, ThreadState{Tid: 1241, Op: "0x80"})
	if got := e.String(); !strings.HasPrefix(got, "pid 1234: 3 threads, futex wait op 0x189,0x80 (private") {
		t.Errorf("String() = %q", got)
	}
}

func TestMembers(t *testing.T) {
	all := []Stat{
		{Pid: 10, PPid: 1, PGrp: 10},   // leader
		{Pid: 11, PPid: 10, PGrp: 10},  // forked child
		{Pid: 12, PPid: 11, PGrp: 12},  // grandchild in its own group: by parent chain
		{Pid: 13, PPid: 12, PGrp: 12},  // and its child
		{Pid: 20, PPid: 1, PGrp: 20},   // another run's leader, not watched
		{Pid: 30, PPid: 1, PGrp: 30},   // known (e.g. an orphan that left the group)
		{Pid: 31, PPid: 999, PGrp: 10}, // orphan in the group, reparented to us
	}
	got := Members(all, map[int]bool{10: true}, map[int]bool{30: true})
	for _, pid := range []int{10, 11, 12, 13, 30, 31} {
		if _, ok := got[pid]; !ok {
			t.Errorf("pid %d missing", pid)
		}
	}
	if _, ok := got[20]; ok || len(got) != 6 {
		t.Errorf("members %v", got)
	}
}
