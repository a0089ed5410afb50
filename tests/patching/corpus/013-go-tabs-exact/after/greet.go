package main

import "fmt"

func greet(name string) string {
	if name == "" {
		name = "there"
	}
	return fmt.Sprintf("hello, %s", name)
}
