package proc

import (
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// TestOnlyReaderUnreadable: a process of ours holding the read end, whose
// descriptors cannot be read for the moment (as while it execs), is not
// proof that nobody reads: onlyReader must say no.
func TestOnlyReaderUnreadable(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	reader := exec.Command("sleep", "60")
	reader.Stdin = r
	if err := reader.Start(); err != nil {
		t.Skipf("no sleep: %v", err)
	}
	r.Close()
	defer func() { reader.Process.Kill(); reader.Wait() }()
	target, err := os.Readlink(fmt.Sprintf("/proc/self/fd/%d", w.Fd()))
	if err != nil || !strings.HasPrefix(target, "pipe:[") {
		t.Fatalf("pipe: %q %v", target, err)
	}
	pipes := map[string]bool{target: true}
	readerDir := "/proc/" + strconv.Itoa(reader.Process.Pid) + "/fd/"
	tests := []struct {
		name string
		fail error // what reading the reader's fd directory returns
		want bool
	}{
		{"readable reader", nil, false},
		{"reader mid-exec", &fs.PathError{Op: "open", Path: readerDir, Err: syscall.EACCES}, false},
		{"reader gone", &fs.PathError{Op: "open", Path: readerDir, Err: syscall.ENOENT}, true},
	}
	defer func() { readFds = os.ReadDir }()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			readFds = func(dir string) ([]os.DirEntry, error) {
				if dir == readerDir && tc.fail != nil {
					return nil, tc.fail
				}
				return os.ReadDir(dir)
			}
			if got := onlyReader(os.Getpid(), pipes); got != tc.want {
				t.Errorf("onlyReader = %v, want %v", got, tc.want)
			}
		})
	}
}
