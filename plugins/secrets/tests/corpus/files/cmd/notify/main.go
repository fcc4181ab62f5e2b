package main

import (
	"fmt"
	"os"
)

const (
	accountSID = "ACb87142895cbd1f5c3bab5febdb3c0dc8"
	apiKeySID  = "SK7963729951dc66f2c4fb7ad851b094c2"
	authToken  = "ee56c294c231d482dd1637a477baca6d"
	buildHash  = "31467b71fa6d45ffd747bfe99cfc52e86e66a69d40cf4ababb456f9d28898484"
	requestID  = "49179723-f354-4005-0993-680d42c89425"
)

func main() {
	token := os.Getenv("GITHUB_TOKEN")
	slack := "xoxb-619056420970-5928201325968-3PQuO6zpefEduOFR6LIDO6jt"
	fmt.Println(token != "", slack != "")
}
