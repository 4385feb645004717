package commands

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// lldbSession is what lldb-19 printed for one dump (testdata/oracles/lldb, made by
// testdata/oracles/capture-lldb.sh): the process id, the threads, the modules and each thread's
// registers. lldb shows the exception context for the thread that raised the exception.
type lldbSession struct {
	dump    string
	pid     uint64
	threads []lldbThread
	images  []lldbImage
}

type lldbThread struct {
	tid       uint64
	exception bool
	regs      map[string]uint64
}

type lldbImage struct {
	base uint64
	path string
}

func readLLDB(t *testing.T, file string) lldbSession {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var s lldbSession
	var (
		header   = regexp.MustCompile(`^# lldb-19 -b --core (\S+)`)
		process  = regexp.MustCompile(`^Process (\d+) stopped`)
		thread   = regexp.MustCompile(`^[ *] thread #\d+: tid = (0x[0-9a-f]+)`)
		image    = regexp.MustCompile(`^\[\s*\d+\] \S+ (0x[0-9a-f]+) (.*?)\s*$`)
		selected = regexp.MustCompile(`^\(lldb\) thread select (\d+)$`)
		register = regexp.MustCompile(`^\s+(\w+) = (0x[0-9a-f]+)`)
	)
	var cur *lldbThread
	inThreadList := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		hex := func(v string) uint64 { n, _ := strconv.ParseUint(strings.TrimPrefix(v, "0x"), 16, 64); return n }
		switch {
		case header.MatchString(line):
			s.dump = header.FindStringSubmatch(line)[1]
		case line == "(lldb) thread list":
			inThreadList = true
		case selected.MatchString(line):
			n, _ := strconv.Atoi(selected.FindStringSubmatch(line)[1])
			cur, inThreadList = &s.threads[n-1], false
		case strings.HasPrefix(line, "(lldb) "):
			inThreadList = false
		case process.MatchString(line):
			s.pid, _ = strconv.ParseUint(process.FindStringSubmatch(line)[1], 10, 64)
		case inThreadList && thread.MatchString(line):
			s.threads = append(s.threads, lldbThread{tid: hex(thread.FindStringSubmatch(line)[1]),
				exception: strings.Contains(line, "stop reason = Exception"), regs: map[string]uint64{}})
		case image.MatchString(line):
			m := image.FindStringSubmatch(line)
			s.images = append(s.images, lldbImage{base: hex(m[1]), path: m[2]})
		case cur != nil && register.MatchString(line):
			m := register.FindStringSubmatch(line)
			cur.regs[m[1]] = hex(m[2])
		}
	}
	return s
}

// TestAgainstLLDB compares threads, modules and registers with lldb-19's reading of the same dumps.
func TestAgainstLLDB(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("..", "testdata", "oracles", "lldb", "*.txt"))
	if len(files) == 0 {
		t.Fatal("no lldb oracle files in testdata/oracles/lldb")
	}
	for _, file := range files {
		oracle := readLLDB(t, file)
		t.Run(oracle.dump, func(t *testing.T) {
			s := openCorpus(t, oracle.dump)
			ptr := s.PointerSize()
			threads := run(t, s, "~")
			for _, th := range oracle.threads {
				if want := fmt.Sprintf("Id: %x.%x ", oracle.pid, th.tid); !strings.Contains(threads, want) {
					t.Errorf("~ lacks %q:\n%s", want, threads)
				}
			}
			lmf := run(t, s, "lm f")
			for _, im := range oracle.images {
				if !strings.Contains(lmf, FormatAddr(im.base, ptr)+" ") || !strings.Contains(lmf, " "+im.path+"\n") {
					t.Errorf("lm f lacks %s at %#x:\n%s", im.path, im.base, lmf)
				}
			}
			names := []string{"rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp", "r8", "r9", "r10", "r11", "r12",
				"r13", "r14", "r15", "rip"}
			if ptr == 4 {
				names = []string{"eax", "ebx", "ecx", "edx", "esi", "edi", "ebp", "esp", "eip"}
			}
			compared := 0
			for _, th := range oracle.threads {
				if len(th.regs) == 0 {
					continue
				}
				if th.exception {
					run(t, s, ".ecxr")
				} else {
					run(t, s, fmt.Sprintf("~~[%x]s", th.tid))
				}
				for _, n := range names {
					want, ok := th.regs[n]
					if !ok {
						continue
					}
					compared++
					got := run(t, s, "r "+n)
					if exp := fmt.Sprintf("%s=%0*x\n", n, ptr*2, want); got != exp {
						t.Errorf("thread %x: r %s = %q, lldb says %q", th.tid, n, got, exp)
					}
				}
				flags := "rflags"
				if ptr == 4 {
					flags = "eflags"
				}
				if want, ok := th.regs[flags]; ok {
					if got := run(t, s, "r efl"); got != fmt.Sprintf("efl=%08x\n", want) {
						t.Errorf("thread %x: r efl = %q, lldb %s = %#x", th.tid, got, flags, want)
					}
				}
			}
			if compared == 0 || len(oracle.threads) == 0 || len(oracle.images) == 0 {
				t.Errorf("oracle file %s yielded nothing to compare (%d registers, %d threads, %d images)",
					file, compared, len(oracle.threads), len(oracle.images))
			}
		})
	}
}
