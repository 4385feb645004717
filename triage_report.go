package main

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"

	"wdbg/repl"
)

// triageReport prints the results of `wdbg triage` as they come, in input order, and the bucket
// table at the end. Text: one line per dump, "PATH  BUCKET  SUMMARY" (the path column padded to
// the longest path, up to maxPathColumn); a dump that failed shows "FAILED(stage)" and the error.
// JSON: one object per dump (dumpResult), then one object with the bucket counts.
type triageReport struct {
	mu       sync.Mutex
	w        io.Writer
	json     bool
	width    int
	progress *triageProgress

	total, opened, failed, noBucket int
	buckets                         map[string]int
}

const maxPathColumn = 60

// Names in the bucket table for dumps without a FAILURE_BUCKET_ID; the parentheses keep them
// apart from real bucket names.
const (
	noBucketRow = "(no bucket)"
	failedRow   = "(failed)"
)

func newTriageReport(w io.Writer, asJSON bool, dumps []string) *triageReport {
	r := &triageReport{w: w, json: asJSON, buckets: map[string]int{}}
	for _, d := range dumps {
		r.width = max(r.width, min(len(d), maxPathColumn))
	}
	return r
}

// started notes that a worker has begun a dump (for the progress line).
func (r *triageReport) started(path string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.progress != nil {
		r.progress.current = path
		r.progress.draw()
	}
}

// add prints one dump's result and counts it.
func (r *triageReport) add(res *dumpResult) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.total++
	switch {
	case res.Error != nil:
		r.failed++
		if res.Error.Stage != "open" {
			r.opened++
		}
	case res.Bucket == "":
		r.opened++
		r.noBucket++
	default:
		r.opened++
		r.buckets[res.Bucket]++
	}
	if r.progress != nil {
		r.progress.clear()
		r.progress.done++
	}
	if r.json {
		writeJSONLine(r.w, res)
	} else {
		fmt.Fprintln(r.w, r.textLine(res))
	}
	if r.progress != nil {
		r.progress.draw()
	}
}

func (r *triageReport) textLine(res *dumpResult) string {
	status, detail := res.Bucket, res.Summary
	switch {
	case res.Error != nil:
		status, detail = "FAILED("+res.Error.Stage+")", res.Error.Message
	case status == "":
		status = noBucketRow
	}
	return strings.TrimRight(fmt.Sprintf("%-*s  %s  %s", r.width, res.Dump, status, detail), " ")
}

// bucketCount is one row of the bucket table.
type bucketCount struct {
	Bucket string `json:"bucket"`
	Count  int    `json:"count"`
}

// bucketSummary is the last JSON object of `wdbg triage --json`.
type bucketSummary struct {
	Schema   int           `json:"schema"`
	Buckets  []bucketCount `json:"buckets"`
	Dumps    int           `json:"dumps"`
	Bucketed int           `json:"bucketed"`
	NoBucket int           `json:"no_bucket"`
	Failed   int           `json:"failed"`
}

// sortedBuckets are the buckets, most dumps first, then by name.
func (r *triageReport) sortedBuckets() []bucketCount {
	rows := make([]bucketCount, 0, len(r.buckets))
	for b, n := range r.buckets {
		rows = append(rows, bucketCount{b, n})
	}
	sort.Slice(rows, func(i, j int) bool {
		if rows[i].Count != rows[j].Count {
			return rows[i].Count > rows[j].Count
		}
		return rows[i].Bucket < rows[j].Bucket
	})
	return rows
}

// finish clears the progress line and prints the bucket table.
func (r *triageReport) finish() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.progress != nil {
		r.progress.clear()
	}
	rows := r.sortedBuckets()
	bucketed := r.total - r.noBucket - r.failed
	if r.json {
		writeJSONLine(r.w, bucketSummary{Schema: repl.JSONSchemaVersion, Buckets: rows, Dumps: r.total, Bucketed: bucketed,
			NoBucket: r.noBucket, Failed: r.failed})
		return
	}
	fmt.Fprintf(r.w, "\n%d dumps: %d with a bucket, %d without, %d failed\n", r.total, bucketed, r.noBucket, r.failed)
	if r.noBucket > 0 {
		rows = append(rows, bucketCount{noBucketRow, r.noBucket})
	}
	if r.failed > 0 {
		rows = append(rows, bucketCount{failedRow, r.failed})
	}
	if len(rows) == 0 {
		return
	}
	fmt.Fprintf(r.w, "%6s  %s\n", "DUMPS", "FAILURE_BUCKET_ID")
	for _, row := range rows {
		fmt.Fprintf(r.w, "%6d  %s\n", row.Count, row.Bucket)
	}
}

// writeJSONLine writes v as one line of JSON. A result that cannot be marshalled (it cannot
// happen with what scripts.Run holds) is written as an error object, so the line count holds.
func writeJSONLine(w io.Writer, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		b, _ = json.Marshal(map[string]string{"error": err.Error()})
	}
	w.Write(append(b, '\n'))
}

// triageProgress is the "[done/total] current file" line on a terminal's standard error.
type triageProgress struct {
	w           io.Writer
	total, done int
	current     string
}

func (p *triageProgress) draw() {
	const barWidth = 20
	filled := barWidth * p.done / max(1, p.total)
	name := p.current
	if len(name) > 50 {
		name = "..." + name[len(name)-47:]
	}
	fmt.Fprintf(p.w, "\r\033[K[%s%s] %d/%d %s", strings.Repeat("#", filled), strings.Repeat(".", barWidth-filled),
		p.done, p.total, name)
}

func (p *triageProgress) clear() { fmt.Fprint(p.w, "\r\033[K") }
