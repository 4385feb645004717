package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"wdbg/commands"
	"wdbg/engine"
	"wdbg/repl"
	"wdbg/scripts"
)

// triager runs one playbook over many dumps. Each dump gets its own Target, Session and Lua host,
// so that workers share no mutable state: the command table is only read (no Register), the
// engine's caches hang off the Target, and the symbol store's on-disk cache is written through a
// temporary file renamed into place (engine/symstore writeAtomic), so two sessions fetching one
// file at once each write a whole copy and the last rename wins; readers never see a partial
// file. Each session has its own symbol client, so such a file may be fetched twice.
type triager struct {
	session commands.SessionOptions
	scripts scripts.Options
	script  string
	timeout time.Duration
}

// dumpResult is what triage says about one dump.
type dumpResult struct {
	Schema  int    `json:"schema"` // repl.JSONSchemaVersion, as every --json document carries
	Dump    string `json:"dump"`
	Status  string `json:"status"` // "ok" or "failed"
	Bucket  string `json:"bucket"` // FAILURE_BUCKET_ID; "" when the playbook gave none
	Summary string `json:"summary"`
	// Result is the table the playbook returned (nil when it returned none).
	Result any `json:"result"`
	// Output is what the playbook printed.
	Output string       `json:"output"`
	Error  *triageError `json:"error"`
}

// triageError says at which stage a dump failed: "open", "script", "timeout", "interrupted" or
// "internal".
type triageError struct {
	Stage   string `json:"stage"`
	Message string `json:"message"`
}

func failedResult(path, stage, msg string) *dumpResult {
	return &dumpResult{Schema: repl.JSONSchemaVersion, Dump: path, Status: "failed", Error: &triageError{Stage: stage, Message: oneLine(msg)}}
}

// run triages the dumps with jobs workers and hands each result to rep in input order, as soon
// as it and all before it are done.
func (tr *triager) run(ctx context.Context, dumps []string, jobs int, rep *triageReport) {
	jobs = max(1, min(jobs, len(dumps)))
	next := make(chan int)
	done := make(chan int)
	results := make([]*dumpResult, len(dumps))
	var wg sync.WaitGroup
	for range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				rep.started(dumps[i])
				results[i] = tr.one(ctx, dumps[i])
				done <- i
			}
		}()
	}
	go func() {
		defer close(next)
		for i := range dumps {
			select {
			case next <- i:
			case <-ctx.Done():
				// Ctrl-C: the dumps not started yet are reported as interrupted.
				for j := i; j < len(dumps); j++ {
					results[j] = failedResult(dumps[j], "interrupted", "not triaged: interrupted")
				}
				go func(from int) {
					for j := from; j < len(dumps); j++ {
						done <- j
					}
				}(i)
				return
			}
		}
	}()
	ready := make([]bool, len(dumps))
	emitted := 0
	for emitted < len(dumps) {
		i := <-done
		ready[i] = true
		for emitted < len(dumps) && ready[emitted] {
			rep.add(results[emitted])
			emitted++
		}
	}
	wg.Wait()
}

// one triages one dump within the per-dump timeout. The work runs in its own goroutine so that a
// dump whose analysis does not notice the deadline is still reported on time; such a goroutine is
// left behind and ends with the process.
func (tr *triager) one(parent context.Context, path string) *dumpResult {
	ctx, cancel := context.WithTimeout(parent, tr.timeout)
	defer cancel()
	out := make(chan *dumpResult, 1)
	go func() {
		defer func() {
			if r := recover(); r != nil {
				out <- failedResult(path, "internal", fmt.Sprintf("internal error: %v (please report this with the dump)", r))
			}
		}()
		out <- tr.analyse(ctx, path)
	}()
	select {
	case r := <-out:
		return r
	case <-ctx.Done():
	}
	// The script stops at the deadline by itself (its Lua state watches ctx); give it a moment
	// to say so and close the dump.
	grace := time.NewTimer(2 * time.Second)
	defer grace.Stop()
	select {
	case r := <-out:
		return r
	case <-grace.C:
		return tr.stopped(ctx, path)
	}
}

// stopped is the result of a dump abandoned at the deadline or by Ctrl-C.
func (tr *triager) stopped(ctx context.Context, path string) *dumpResult {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return failedResult(path, "timeout", fmt.Sprintf("stopped after %v (--timeout)", tr.timeout))
	}
	return failedResult(path, "interrupted", "interrupted")
}

// analyse opens the dump, runs the playbook and reads its answer.
func (tr *triager) analyse(ctx context.Context, path string) *dumpResult {
	t, err := engine.Open(path)
	if err != nil {
		return failedResult(path, "open", fmt.Sprintf("Could not open dump file [%s], %v", path, err))
	}
	defer t.Close()
	if ctx.Err() != nil {
		return tr.stopped(ctx, path)
	}
	sess := commands.NewSessionWith(t, tr.session)
	host := scripts.New(sess, tr.scripts)
	defer host.Close()
	run, err := host.RunFile(ctx, tr.script, nil)
	if err != nil {
		if ctx.Err() != nil {
			return tr.stopped(ctx, path)
		}
		r := failedResult(path, "script", err.Error())
		if run != nil {
			r.Output = run.Output
		}
		return r
	}
	r := &dumpResult{Schema: repl.JSONSchemaVersion, Dump: path, Status: "ok", Output: run.Output}
	if len(run.Values) > 0 {
		r.Result = run.Values[0]
	}
	switch v := r.Result.(type) {
	case map[string]any:
		r.Bucket, _ = v["bucket"].(string)
		r.Summary, _ = v["summary"].(string)
	case string:
		r.Summary = v
	}
	if r.Summary == "" {
		r.Summary = lastLine(run.Output)
	}
	r.Bucket, r.Summary = oneLine(r.Bucket), oneLine(r.Summary)
	return r
}

// lastLine is the last non-blank line of text.
func lastLine(text string) string {
	lines := strings.Split(strings.TrimRight(text, "\n"), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if s := strings.TrimSpace(lines[i]); s != "" {
			return s
		}
	}
	return ""
}

// oneLine keeps a message on one line of the report.
func oneLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return strings.TrimSpace(strings.ReplaceAll(s, "\r", ""))
}
