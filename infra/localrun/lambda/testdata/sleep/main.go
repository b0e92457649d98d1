// Command sleep is a test Lambda function that sleeps for the payload's "ms"
// milliseconds, and with "child" first starts a long-lived child process.
package main

import (
	"context"
	"os"
	"os/exec"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
)

type request struct {
	MS    int  `json:"ms"`
	Child bool `json:"child"`
}

type response struct {
	PID      int `json:"pid"`
	ChildPID int `json:"childPid,omitempty"`
}

func main() {
	lambda.Start(func(_ context.Context, in request) (response, error) {
		out := response{PID: os.Getpid()}
		if in.Child {
			cmd := exec.Command("sleep", "60")
			if err := cmd.Start(); err != nil {
				return out, err
			}
			out.ChildPID = cmd.Process.Pid
		}
		time.Sleep(time.Duration(in.MS) * time.Millisecond)
		return out, nil
	})
}
