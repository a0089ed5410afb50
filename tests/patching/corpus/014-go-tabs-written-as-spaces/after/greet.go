package main

import "fmt"

func greet(name string) string {
	if name == "" {
		// nobody to greet: greet everyone
		name = "world"
	}
	return fmt.Sprintf("hello, %s", name)
}
