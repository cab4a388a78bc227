// Command fn is a test function for package lambdarun: it echoes its event,
// sleeps or fails on request, and reports the deadline and its process id.
package main

import (
	"context"
	"errors"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
)

type event struct {
	Echo    string `json:"echo"`
	SleepMS int    `json:"sleepMs"`
	Fail    bool   `json:"fail"`
}

type answer struct {
	Echo       string `json:"echo"`
	PID        int    `json:"pid"`
	DeadlineMS int64  `json:"deadlineMs"`
	Env        string `json:"env"`
}

func main() {
	lambda.Start(func(ctx context.Context, e event) (answer, error) {
		if e.Fail {
			return answer{}, errors.New("asked to fail")
		}
		time.Sleep(time.Duration(e.SleepMS) * time.Millisecond)
		d, _ := ctx.Deadline()
		return answer{Echo: e.Echo, PID: os.Getpid(), DeadlineMS: d.UnixMilli(), Env: os.Getenv("FN_SETTING")}, nil
	})
}
