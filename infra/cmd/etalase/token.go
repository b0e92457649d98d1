package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"
)

const tokenUsage = `usage: etalase token [-sub SUBJECT] [-scopes a,b] [-ttl 1h] [-url http://127.0.0.1:3000]

Asks the local identity provider of a running make dev for an access token that
the local HTTP API's JWT authorizer accepts, and prints it. Use it as
  curl -H "Authorization: Bearer $(make -s token SUB=seller-1 SCOPES=seller)" ...

flags:
`

// runToken implements `etalase token`.
func runToken(args []string) int {
	fs := flag.NewFlagSet("token", flag.ContinueOnError)
	sub := fs.String("sub", "buyer-1", "the token's subject")
	scopes := fs.String("scopes", "buyer", "comma-separated scopes (buyer, seller, creator, auditor)")
	ttl := fs.Duration("ttl", time.Hour, "lifetime")
	url := fs.String("url", fmt.Sprintf("http://127.0.0.1:%d", envInt("PORT", 3000)), "the running make dev's origin")
	fs.Usage = func() { fmt.Fprint(fs.Output(), tokenUsage); fs.PrintDefaults() }
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	var list []string
	for _, s := range strings.Split(*scopes, ",") {
		if s = strings.TrimSpace(s); s != "" {
			list = append(list, s)
		}
	}
	body, _ := json.Marshal(map[string]any{"sub": *sub, "scopes": list, "ttlSeconds": int(ttl.Seconds())})
	resp, err := http.Post(strings.TrimRight(*url, "/")+"/_local/idp/token", "application/json", bytes.NewReader(body))
	if err != nil {
		fmt.Fprintf(os.Stderr, "etalase token: is make dev running? %v\n", err)
		return 1
	}
	defer resp.Body.Close()
	var out struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusOK || out.AccessToken == "" {
		fmt.Fprintf(os.Stderr, "etalase token: identity provider answered %s\n", resp.Status)
		return 1
	}
	fmt.Println(out.AccessToken)
	return 0
}
