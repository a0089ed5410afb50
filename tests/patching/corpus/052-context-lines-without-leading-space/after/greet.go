package main

import "fmt"

func greet(name string) string {
	if name == "" {
		name = "friend"
	}
	return fmt.Sprintf("hello, %s", name)
}
