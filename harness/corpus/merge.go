package corpus

import (
	"fmt"
	"os"
)

// Merge adds every entry of the srcs corpora to dst, one entry per signature:
// an entry whose signature dst already has only adds its verdicts (merged);
// the others are copied (added). A version and method recorded differently on
// both sides keeps dst's verdict and is reported. A src entry that does not
// load is reported by file and skipped; dst's own bad entries are reported too.
func Merge(dst string, srcs ...string) (added, merged int, errs []error) {
	if _, err := os.Stat(dst); err == nil {
		_, dstErrs := Load(dst)
		errs = append(errs, dstErrs...)
	}
	for _, src := range srcs {
		entries, loadErrs := Load(src)
		errs = append(errs, loadErrs...)
		for _, e := range entries {
			id, wasMerged, conflicts, err := write(dst, e, false)
			if err != nil {
				errs = append(errs, fmt.Errorf("merge %s: %w", src, err))
				continue
			}
			for _, c := range conflicts {
				errs = append(errs, fmt.Errorf("merge %s entry %s into %s: conflict, kept %s's: %s", src, e.ID, id, dst, c))
			}
			if wasMerged {
				merged++
			} else {
				added++
			}
		}
	}
	return added, merged, errs
}
