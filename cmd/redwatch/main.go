// Command redwatch watches Redis instances, chosen keys and hosts, keeps every sample in an
// embedded VictoriaMetrics storage, and serves a live dashboard and health endpoints.
package main

import (
	"os"

	"github.com/redwatch/redwatch/app/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], cli.IO{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Env: os.Environ()}))
}
