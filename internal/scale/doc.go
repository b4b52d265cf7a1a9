// Package scale is the reliability suite. Its tests (build tag scale, so
// `go test ./...` neither builds nor runs them) start a private PostgreSQL
// cluster, three `pforte serve` processes sharing it and nginx in front as
// the load balancer, all on loopback, and drive them with `pforte loadtest`
// (package loadtest):
//
//  1. mixed load at a fixed rate, with p50/p99 and answers per endpoint;
//  2. kill -9 of a node mid-load: approvals and letters neither lost nor
//     doubled, password and PIN failure counters exact;
//  3. PostgreSQL stopped and started mid-load: the nodes report not ready
//     and answer 503 with Retry-After, never 500, and recover by themselves.
//
// Run it with `go test -tags scale -run . ./internal/scale/ -v`
// (PFORTE_SCALE_DURATION shortens the load; docs/operations.md).
package scale
