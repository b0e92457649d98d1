// Command initfail is a test Lambda function that fails its init phase in the way the
// INIT_MODE environment variable names: "exit" (status 3), "panic", "report" (posts
// runtime/init/error, then exits), or "hang".
package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
)

func main() {
	switch os.Getenv("INIT_MODE") {
	case "exit":
		fmt.Fprintln(os.Stderr, "initfail: missing configuration")
		os.Exit(3)
	case "panic":
		panic("initfail: boom")
	case "report":
		url := "http://" + os.Getenv("AWS_LAMBDA_RUNTIME_API") + "/2018-06-01/runtime/init/error"
		body := `{"errorMessage":"cannot load config","errorType":"InitConfigError","stackTrace":[]}`
		req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
		if err != nil {
			os.Exit(4)
		}
		req.Header.Set("Lambda-Runtime-Function-Error-Type", "Runtime.Unknown")
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != http.StatusAccepted {
			os.Exit(4)
		}
		os.Exit(1)
	case "hang":
		time.Sleep(time.Hour)
	}
	lambda.Start(func(context.Context) (string, error) { return "ok", nil })
}
