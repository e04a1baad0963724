// Package sfubench measures Confab's SFU side by side with pion's sfu-ws
// example (scripts/bench-sfu.sh builds both and runs this package's
// benchmark in a private network namespace). It has only tests.
package sfubench
