package loadtest

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"text/tabwriter"
	"time"
)

// Print writes the run's table: one row per scenario (the whole flow, as
// vegeta measured it) and one per endpoint (each step), with requests,
// p50, p99 and the answers by class.
func Print(w io.Writer, r *Result) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "\trequests\tp50\tp99\t2xx\t4xx\t503\t502/504\tother 5xx\ttransport\t")
	names := make([]string, 0, len(r.Scenarios))
	for _, s := range Scenarios {
		if _, ok := r.Scenarios[s]; ok {
			names = append(names, s)
		}
	}
	for _, name := range names {
		m := r.Scenarios[name]
		row(tw, "flow "+name, int(m.Requests), m.Latencies.P50, m.Latencies.P99, r.Flows[name])
	}
	for _, e := range r.Endpoints {
		row(tw, e.Name, e.Requests, e.P50, e.P99, e.Classes)
	}
	tw.Flush()
	var total Classes
	for _, e := range r.Endpoints {
		total.merge(e.Classes)
	}
	if total.BusyBare > 0 {
		fmt.Fprintf(w, "503 answers without Retry-After: %d\n", total.BusyBare)
	}
	errs := make([]string, 0, len(r.Errors))
	for name := range r.Errors {
		errs = append(errs, name)
	}
	slices.Sort(errs)
	for _, name := range errs {
		fmt.Fprintf(w, "first failure at %s: %s\n", name, r.Errors[name])
	}
}

func row(w io.Writer, name string, n int, p50, p99 time.Duration, c Classes) {
	fmt.Fprintf(w, "%s\t%d\t%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t\n", name, n, ms(p50), ms(p99), c.OK, c.Client, c.Busy, c.Gateway, c.Server, c.Transport)
}

func ms(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 1, 64) + " ms"
}

// WriteJSON writes the result as one JSON object.
func WriteJSON(w io.Writer, r *Result) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// Totals sums the endpoints' classes.
func (r *Result) Totals() Classes {
	var total Classes
	for _, e := range r.Endpoints {
		total.merge(e.Classes)
	}
	return total
}
