package trace

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"testing"
	"time"
)

func TestZZDebug(t *testing.T) {
	argv := []string{"python3", os.Getenv("FF_SCRIPT")}
	if os.Getenv("FF_SCRIPT") == "" {
		t.Skip()
	}
	rep, err := Run(context.Background(), Options{Argv: argv, Timeout: 20 * time.Second, Stdout: os.Stdout, Stderr: os.Stderr})
	if err != nil {
		t.Fatal(err)
	}
	if os.Getenv("FF_JSON") != "" {
		b, _ := json.MarshalIndent(rep, "", " ")
		fmt.Println(string(b))
	}
	fmt.Println(rep.Markdown())
}
