package scenario

import (
	"fmt"
	"strings"
)

// edit replaces old by new in valid; a case whose old text is missing
// fails loudly (its want then never matches).
func edit(pairs ...string) string {
	s := valid
	for i := 0; i+1 < len(pairs); i += 2 {
		if !strings.Contains(s, pairs[i]) {
			return "edit: missing " + pairs[i]
		}
		s = strings.Replace(s, pairs[i], pairs[i+1], 1)
	}
	return s
}

func nested(depth int) string {
	return valid + "expect:\n  fork: " + strings.Repeat("[", depth) + strings.Repeat("]", depth) + "\n"
}

func manyResources(n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "  R%d: lock\n", i)
	}
	return edit("  L: lock\n", "  L: lock\n"+b.String())
}

func manyChildSteps(n int) string {
	return edit("        - use: L\n", strings.Repeat("        - use: L\n", n))
}

func manyThreads(threads, steps int) string {
	var ts, starts strings.Builder
	for i := 0; i < threads; i++ {
		fmt.Fprintf(&ts, "  t%d: [%s]\n", i, strings.TrimSuffix(strings.Repeat("use: L, ", steps), ", "))
		fmt.Fprintf(&starts, "  - start: t%d\n", i)
	}
	return edit("threads:\n", "threads:\n"+ts.String(), "main:\n", "main:\n"+starts.String())
}

type parseCase struct {
	name string
	yaml string
	want string
}

var parseCases = []parseCase{
	{"syntax", "forkfuzz: 1\nname: [x\n", "t.yaml:1: did not find expected ',' or ']'"},
	{"empty", "", "t.yaml: empty file: expected a map starting with forkfuzz: 1"},
	{"two documents", valid + "---\nforkfuzz: 1\n", "t.yaml:17: a second YAML document; a scenario file holds one"},
	{"not utf-8", "forkfuzz: 1\nname: \xff\xfe\n", "t.yaml:2:7: invalid UTF-8 (a scenario file is UTF-8 text)"},
	{"not a map", "- forkfuzz: 1\n", "t.yaml:1:1: expected a map starting with forkfuzz: 1, got a list"},
	{"missing version", edit("forkfuzz: 1\n", ""), "t.yaml:1:1: missing forkfuzz: 1 (the format version; supported: 1)"},
	{"other version", edit("forkfuzz: 1", "forkfuzz: 2"), "t.yaml:1:11: unsupported format version \"2\" (supported: 1)"},
	{"version as string", edit("forkfuzz: 1", `forkfuzz: "1"`), "t.yaml:1:11: expected the format version (forkfuzz: 1), got a string"},
	{"version not first", edit("forkfuzz: 1\nname: lock-held\n", "name: lock-held\nforkfuzz: 1\n"), "t.yaml:2:1: forkfuzz: 1 must be the first key"},
	{"unknown key", edit("name: lock-held\n", "name: lock-held\nnmae: x\n"), "t.yaml:3:1: unknown key \"nmae\" (allowed: forkfuzz, name, about, unguarded, resources, threads, main, expect)"},
	{"unknown resource option", edit("L: lock", "L: {kind: lock, size: 2}"), "t.yaml:4:19: unknown key \"size\" in resources.L (allowed: kind, target, workers)"},
	{"resource without kind", edit("L: lock", "L: {target: pipe}"), "t.yaml:4:6: resource \"L\" has no kind"},
	{"steps not a list", edit("  holder:\n    - take: L\n    - park: held\n    - release: L\n", "  holder: take L\n"), "t.yaml:6:11: expected a list of steps, got a string"},
	{"main not a list", edit("main:\n", "main: 5\nx:\n"), "t.yaml:10:7: expected a list of steps, got an integer\nt.yaml:11:1: unknown key \"x\" (allowed: forkfuzz, name, about, unguarded, resources, threads, main, expect)"},
	{"resource kind not a string", edit("L: lock", "L: [lock]"), "t.yaml:4:6: expected a resource kind or a map {kind: ...}, got a list"},
	{"duplicate resource", edit("  L: lock\n", "  L: lock\n  L: rlock\n"), "t.yaml:5:3: duplicate key \"L\" (first at line 4)"},
	{"duplicate top key", edit("name: lock-held\n", "name: lock-held\nname: other\n"), "t.yaml:3:1: duplicate key \"name\" (first at line 2)"},
	{"undeclared resource", edit("        - use: L", "        - use: M"), "t.yaml:16:16: undeclared resource \"M\""},
	{"undeclared thread", edit("  - start: holder\n", "  - start: holder\n  - start: nobody\n"), "t.yaml:12:12: undeclared thread \"nobody\""},
	{"wait nothing sets", edit("  - wait: held\n", "  - wait: held\n  - wait: nothing\n"), "t.yaml:13:11: wait for event \"nothing\", which no park or signal sets"},
	{"unknown kind", edit("L: lock", "L: mutex"), "t.yaml:4:6: unknown resource kind \"mutex\" (want one of lock, rlock, condition, semaphore, queue, logging-handler, logging-module, buffered-writer, module, sqlite, executor, mp-lock)"},
	{"unknown step", edit("    - take: L", "    - grab: L"), "t.yaml:7:7: unknown step \"grab\" (want one of take, release, use, park, signal, wait, start, fork, exit)"},
	{"unknown via", edit("via: process", "via: thread"), "t.yaml:14:12: unknown via \"thread\" (want os.fork, process or pool)"},
	{"unknown method", valid + "expect:\n  fork: deadlock\n  vfork: ok\n", "t.yaml:19:10: unknown key \"vfork\" in expect (allowed: python, fork, spawn, forkserver, default)"},
	{"unknown verdict", valid + "expect:\n  fork: stuck\n", "t.yaml:18:9: unknown verdict \"stuck\" for fork (want ok, deadlock, hang, crash or error)"},
	{"start in a thread", edit("    - release: L\n", "    - release: L\n    - start: holder\n"), "t.yaml:10:7: start is not allowed in a thread (only in main)"},
	{"park in main", edit("  - wait: held\n", "  - wait: held\n  - park: again\n"), "t.yaml:13:5: park is not allowed in main (only in a thread)"},
	{"wait in child", edit("        - use: L\n", "        - use: L\n        - wait: held\n"), "t.yaml:17:11: wait is not allowed in the child (only in a thread or main)"},
	{"two forks", valid + "  - fork:\n      via: pool\n", "t.yaml:17:5: a second fork; main forks exactly once"},
	{"no fork", edit("  - fork:\n      via: process\n      child:\n        - use: L\n", ""), "t.yaml:10:1: main has no fork step; it must fork exactly once"},
	{"release not held", edit("    - take: L\n", ""), "t.yaml:8:16: release of \"L\", which this thread does not hold here"},
	{"release in child not held", edit("        - use: L", "        - release: L"), "t.yaml:16:20: release of \"L\", which the child does not hold here"},
	{"take held lock", edit("    - take: L\n", "    - take: L\n    - take: L\n"), "t.yaml:8:13: take of \"L\", which this thread already holds: a lock is not reentrant (self-deadlock)"},
	{"use held lock", edit("    - take: L\n", "    - take: L\n    - use: L\n"), "t.yaml:8:12: use of \"L\", which this thread already holds: a lock is not reentrant (self-deadlock)"},
	{"take logging handler", edit("L: lock", "L: logging-handler", "    - release: L\n", ""), "t.yaml:7:13: cannot take \"L\": a logging-handler cannot be taken (take works on lock, rlock, condition, semaphore, queue, logging-module, mp-lock)"},
	{"park not waited", edit("  - wait: held\n", ""), "t.yaml:8:13: main never waits for park \"held\" before the fork"},
	{"park waited after fork", edit("  - wait: held\n", "", "        - use: L\n", "        - use: L\n  - wait: held\n"), "t.yaml:8:13: main never waits for park \"held\" before the fork"},
	{"wait before start", edit("  - start: holder\n  - wait: held\n", "  - wait: held\n  - start: holder\n"), "t.yaml:11:11: main waits for park \"held\" before it starts thread \"holder\""},
	{"thread never started", edit("  - start: holder\n", ""), "t.yaml:6:3: thread \"holder\" is never started"},
	{"thread started twice", edit("  - start: holder\n", "  - start: holder\n  - start: holder\n"), "t.yaml:12:12: thread \"holder\" is started twice"},
	{"exit not last", edit("        - use: L\n", "        - exit: normal\n        - use: L\n"), "t.yaml:16:11: exit must be the child's last step"},
	{"exit value", edit("        - use: L\n", "        - use: L\n        - exit: now\n"), "t.yaml:17:17: exit takes normal, got \"now\""},
	{"exit in main", edit("  - wait: held\n", "  - wait: held\n  - exit: normal\n"), "t.yaml:13:5: exit is not allowed in main (only in the child)"},
	{"target on lock", edit("L: lock", "L: {kind: lock, target: pipe}"), "t.yaml:4:27: option target is only for buffered-writer, not lock"},
	{"unknown target", edit("  L: lock\n", "  L: lock\n  W: {kind: buffered-writer, target: file}\n"), "t.yaml:5:38: unknown target \"file\" (want pipe or stdout)"},
	{"workers on lock", edit("L: lock", "L: {kind: lock, workers: 2}"), "t.yaml:4:28: option workers is only for executor, not lock"},
	{"workers too many", edit("  L: lock\n", "  L: lock\n  X: {kind: executor, workers: 9}\n"), "t.yaml:5:32: workers 9 is out of range 1 to 8 (MaxWorkers)"},
	{"workers zero", edit("  L: lock\n", "  L: lock\n  X: {kind: executor, workers: 0}\n"), "t.yaml:5:32: workers 0 is out of range 1 to 8 (MaxWorkers)"},
	{"workers not a number", edit("  L: lock\n", "  L: lock\n  X: {kind: executor, workers: two}\n"), "t.yaml:5:32: expected a number of workers, got a string"},
	{"processes without pool", edit("via: process", "via: process\n      processes: 2"), "t.yaml:15:18: processes is only for via: pool"},
	{"processes zero", edit("via: process", "via: pool\n      processes: 0"), "t.yaml:15:18: processes 0 is out of range 1 to 8 (MaxProcesses)"},
	{"tasks too many", edit("via: process", "via: pool\n      tasks: 65"), "t.yaml:15:14: tasks 65 is out of range 1 to 64 (MaxTasks)"},
	{"processes huge", edit("via: process", "via: pool\n      processes: 99999999999999999999999"), "t.yaml:15:18: processes 99999999999999999999999 is out of range 1 to 8 (MaxProcesses)"},
	{"processes huge, no pool", edit("via: process", "via: process\n      processes: 99999999999999999999999"), "t.yaml:15:18: processes 99999999999999999999999 is out of range 1 to 8 (MaxProcesses)"},
	{"tasks huge negative", edit("via: process", "via: pool\n      tasks: -99999999999999999999"), "t.yaml:15:14: tasks -99999999999999999999 is out of range 1 to 64 (MaxTasks)"},
	{"workers beyond int64", edit("  L: lock\n", "  L: lock\n  X: {kind: executor, workers: 18446744073709551615}\n"), "t.yaml:5:32: workers 18446744073709551615 is out of range 1 to 8 (MaxWorkers)"},
	{"workers with 500 digits", edit("  L: lock\n", "  L: lock\n  X: {kind: executor, workers: "+strings.Repeat("9", 500)+"}\n"), "t.yaml:5:32: workers " + strings.Repeat("9", 60) + "… (500 bytes) is out of range 1 to 8 (MaxWorkers)"},
	{"processes not whole", edit("via: process", "via: pool\n      processes: 1.5"), "t.yaml:15:18: expected a number of processes (a whole number), got \"1.5\""},
	{"bad resource name", edit("  L: lock\n", "  L: lock\n  1L: lock\n"), "t.yaml:5:3: invalid resource name \"1L\" (want [A-Za-z][A-Za-z0-9_]*, at most 32 characters)"},
	{"reserved name", edit("  holder:\n", "  ff_holder:\n", "start: holder", "start: ff_holder"), "t.yaml:6:3: thread name \"ff_holder\" starts with ff_, which forkfuzz reserves"},
	{"bad event name", edit("park: held", "park: held-1", "wait: held", "wait: held-1"), "t.yaml:8:13: invalid event name \"held-1\" (want [A-Za-z][A-Za-z0-9_]*, at most 32 characters)\nt.yaml:12:11: invalid event name \"held-1\" (want [A-Za-z][A-Za-z0-9_]*, at most 32 characters)"},
	{"bad scenario name", edit("name: lock-held", "name: Lock_Held"), "t.yaml:2:7: invalid scenario name \"Lock_Held\" (want [a-z][a-z0-9-]*, at most 64 characters)"},
	{"missing scenario name", edit("name: lock-held\n", ""), "t.yaml:1:1: missing scenario name"},
	{"name not a string", edit("name: lock-held", "name: 12"), "t.yaml:2:7: expected a scenario name, got an integer"},
	{"bad version range", valid + "expect:\n  - python: \"~3.12\"\n    fork: ok\n", "t.yaml:18:13: invalid python version range \"~3.12\" (want \"3.12\", \">=3.12\", \"<3.12\", \">3.8\", \"<=3.11\" or \"3.8-3.11\")"},
	{"reversed version range", valid + "expect:\n  - python: 3.12-3.8\n    fork: ok\n", "t.yaml:18:13: invalid python version range \"3.12-3.8\" (want \"3.12\", \">=3.12\", \"<3.12\", \">3.8\", \"<=3.11\" or \"3.8-3.11\")"},
	{"empty expect block", valid + "expect:\n  - python: \"3.12\"\n", "t.yaml:18:5: expect block names no start method (fork, spawn, forkserver, default)"},
	{"expect wrong type", valid + "expect: deadlock\n", "t.yaml:17:9: expected a map of start method -> verdict, or a list of them, got a string"},
	{"step with two keys", edit("    - take: L\n", "    - take: L\n      use: L\n"), "t.yaml:7:7: a step is a map with one key, got 2 keys (\"take\", \"use\")"},
	{"step with many keys", edit("    - take: L\n", "    - {take: L, use: L, a: 1, b: 2, c: 3}\n"), "t.yaml:7:7: a step is a map with one key, got 5 keys (\"take\", \"use\", \"a\", \"b\", …)"},
	{"step not a map", edit("    - take: L\n", "    - take\n"), "t.yaml:7:7: expected a step (a map with one key, such as take: L), got a string"},
	{"park long form unknown key", edit("park: held", "park: {event: held, on: L}"), "t.yaml:8:27: unknown key \"on\" in threads.holder[1] (allowed: event, in)"},
	{"park long form without event", edit("park: held", "park: {in: L}"), "t.yaml:8:13: park has no event"},
	{"fork not a map", edit("  - fork:\n      via: process\n      child:\n        - use: L\n", "  - fork: process\n"), "t.yaml:13:11: expected a map {via: ..., child: [...]}, got a string"},
	{"anchor and alias", edit("  L: lock\n", "  L: &k lock\n  M: *k\n"), "t.yaml:4:6: anchor &k: aliases and anchors are not supported\nt.yaml:5:6: alias *k: aliases and anchors are not supported"},
	{"unsupported tag", edit("L: lock", "L: !kind lock"), "t.yaml:4:6: unsupported tag !kind"},
	{"nesting too deep", nested(20), "t.yaml:18:27: nesting deeper than 20 (MaxDepth)"},
	{"too many resources", manyResources(16), "t.yaml:3:1: 17 resources, more than the limit of 16 (MaxResources)"},
	{"too many steps in a list", manyChildSteps(65), "t.yaml:15:7: 65 steps, more than the limit of 64 (MaxStepsPerList)"},
	{"too many threads", manyThreads(8, 0), "t.yaml:5:1: 9 threads, more than the limit of 8 (MaxThreads)"},
	{"too many steps in all", manyThreads(4, 64), "t.yaml:1:1: 267 steps in all, more than the limit of 256 (MaxSteps)"},
	{"about too long", edit("name: lock-held\n", "name: lock-held\nabout: "+strings.Repeat("x", 2001)+"\n"), "t.yaml:3:8: about is 2001 characters, more than the limit of 2000 (MaxAboutLen)"},
	{"about control character", edit("name: lock-held\n", "name: lock-held\nabout: \"bell \\a\"\n"), "t.yaml:3:8: about contains the control character U+0007 (only newline and tab are allowed)"},
	{"unguarded not a bool", edit("name: lock-held\n", "name: lock-held\nunguarded: yes\n"), "t.yaml:3:12: expected true or false, got a string"},
	{"stdout twice", edit("  L: lock\n", "  L: lock\n  A: {kind: buffered-writer, target: stdout}\n  B: {kind: buffered-writer, target: stdout}\n"), "t.yaml:6:38: resource \"B\" targets stdout, as \"A\" does; there is one stdout"},
	{"thread named like a resource", edit("  holder:\n", "  L:\n", "start: holder", "start: L"), "t.yaml:6:3: thread name \"L\" is also a resource name"},
	{"park event twice", edit("  holder:\n", "  other:\n    - park: held\n  holder:\n", "  - start: holder\n", "  - start: holder\n  - start: other\n"), "t.yaml:10:13: event \"held\" is already a park in thread \"other\"; each park has its own event"},

	// Values in messages: cut when long, ASCII-escaped when not plain ASCII.
	{"huge via", edit("via: process", "via: "+strings.Repeat("x", 500000)), "t.yaml:14:12: unknown via \"" + strings.Repeat("x", 60) + "\"… (500000 bytes) (want os.fork, process or pool)"},
	{"long multibyte value cut at a character", edit("via: process", "via: "+strings.Repeat("é", 100)), "t.yaml:14:12: unknown via \"" + strings.Repeat(`\u00e9`, 60) + "\"… (200 bytes) (want os.fork, process or pool)"},
	{"look-alike scenario name", edit("name: lock-held", "name: l\u043ek"), "t.yaml:2:7: invalid scenario name \"l\\u043ek\" (want [a-z][a-z0-9-]*, at most 64 characters)"},
	{"look-alike resource", edit("        - use: L", "        - use: \u0406"), "t.yaml:16:16: undeclared resource \"\\u0406\""},
	{"zero-width in a name", edit("name: lock-held", "name: lock\u200bheld"), "t.yaml:2:7: invalid scenario name \"lock\\u200bheld\" (want [a-z][a-z0-9-]*, at most 64 characters)"},
	{"look-alike in a path", edit("L: lock", "\u0141: {kind: lock, size: 2}"), "t.yaml:4:3: invalid resource name \"\\u0141\" (want [A-Za-z][A-Za-z0-9_]*, at most 32 characters)\nt.yaml:4:19: unknown key \"size\" in resources.\\u0141 (allowed: kind, target, workers)"},
	{"quoted huge number", edit("via: process", "via: pool\n      processes: \"99999999999999999999999\""), "t.yaml:15:18: expected a number of processes, got a string"},
	// A tab in the indentation, wherever yaml.v3 trips on it.
	{"tab indents a key", edit("  L: lock", "\tL: lock"), "t.yaml:4:1: a tab in the indentation; YAML indents with spaces"},
	{"tab after spaces", edit("  L: lock", "  \tL: lock"), "t.yaml:4:3: a tab in the indentation; YAML indents with spaces"},
	{"tab indents a second key", edit("  L: lock\n", "  L: lock\n\tM: lock\n"), "t.yaml:5:1: a tab in the indentation; YAML indents with spaces"},
	{"tab after a dash", edit("    - take: L", "    -\ttake: L"), "t.yaml:7:6: a tab in the indentation; YAML indents with spaces"},
	{"tab on line 1", "\t" + valid, "t.yaml:1:1: a tab in the indentation; YAML indents with spaces"},
	{"tab on a blank line", edit("name: lock-held\n", "name: lock-held\n\t\n"), "t.yaml:3:1: a tab in the indentation; YAML indents with spaces"},
	{"tab before a comment", "\t# c\n", "t.yaml:1:1: a tab in the indentation; YAML indents with spaces"},
	{"tab not the cause", "forkfuzz: 1\nname: [x\t# c\n", "t.yaml:1: did not find expected ',' or ']'"},
	// Characters yaml.v3 refuses, named at their place.
	{"nul", edit("name: lock-held", "name: \"lock\x00held\""), "t.yaml:2:12: control character NUL (0x00) is not allowed"},
	{"escape in a comment", "# \x1b[31m\n" + valid, "t.yaml:1:3: control character ESC (0x1B) is not allowed"},
	{"del after multibyte", edit("name: lock-held", "name: éé\x7f"), "t.yaml:2:9: control character DEL (0x7F) is not allowed"},
	{"c1 control", edit("name: lock-held", "name: a\u0080"), "t.yaml:2:8: control character U+0080 is not allowed"},
	{"noncharacter", edit("name: lock-held", "name: a\uffff"), "t.yaml:2:8: noncharacter U+FFFF is not allowed"},
	// Merge keys: one message each, nothing else about that mapping.
	{"merge key inline", edit("L: lock", "L: {<<: {kind: lock}}"), "t.yaml:4:7: merge keys (<<) are not supported; write the keys out"},
	{"merge key alias", edit("  L: lock\n", "  B: &b {kind: lock}\n  L: {<<: *b}\n"), "t.yaml:4:6: anchor &b: aliases and anchors are not supported\nt.yaml:5:7: merge keys (<<) are not supported; write the keys out"},
	{"merge key in a step and a list of them", edit("    - take: L\n", "    - <<: {take: L}\n", "via: process", "<<: [{via: process}, {via: pool}]"), "t.yaml:7:7: merge keys (<<) are not supported; write the keys out\nt.yaml:14:7: merge keys (<<) are not supported; write the keys out"},
	{"quoted << is a key", edit("    - take: L", "    - \"<<\": L"), "t.yaml:7:7: unknown step \"<<\" (want one of take, release, use, park, signal, wait, start, fork, exit)"},
}
