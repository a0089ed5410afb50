"""Tags from tree-sitter for each supported language, from small written snippets."""

from __future__ import annotations

import pytest

from tieragent.repo.map.tags import (
    LANGUAGES,
    language_for,
    parse_source,
    query_text,
    tags_version,
)

PY = b'''\
import os
from .net import fetch_page

TIMEOUT = 30


class Client(BaseClient):
    """A client."""

    def __init__(self, url):
        self.url = url

    def get(self, path,
            retries=3):
        def local_helper():
            return 1
        return fetch_page(self.url + path, timeout=TIMEOUT)


@cached
def make_client(url: str) -> "Client":
    # a comment
    return Client(url)
'''

JS = b"""\
import { fetchPage } from "./net.js";

export class Client extends BaseClient {
  constructor(url) { super(); this.url = url; }
  get(path) { return fetchPage(this.url + path); }
}

export function makeClient(url) {
  return new Client(url);
}

export const parseHeader = (line) => {
  return line.split(":");
};

function* pages() { yield 1; }
"""

TS = b"""\
export interface Options { timeout: number; retry(n: number): boolean; }
export type Header = [string, string];
enum Mode { Fast, Slow }
export abstract class Base { abstract run(): void; }
export class Client extends Base implements Options {
  timeout = 3;
  retry(n: number): boolean { return n < 3; }
  run(): void { fetchPage(makeUrl("x")); }
}
export function makeClient(opts: Options): Client {
  return new Client();
}
"""

TSX = b"""\
import React from "react";
export function Button(props: ButtonProps) {
  return <button onClick={props.onClick}>{props.label}</button>;
}
export const Panel = ({ title }: PanelProps) => <div>{title}</div>;
"""

GO = b"""\
package client

import "net/http"

type Client struct {
	URL string
}

type Fetcher interface {
	Fetch(path string) (string, error)
}

type Handler func(string) error

func (c *Client) Get(path string) (*http.Response, error) {
	return http.Get(c.URL + path)
}

func NewClient(url string) *Client {
	return &Client{URL: url}
}
"""

RUST = b"""\
use std::collections::HashMap;

pub struct Client {
    url: String,
}

pub enum Mode { Fast, Slow }

pub trait Fetch {
    fn fetch(&self, path: &str) -> String;
}

impl Fetch for Client {
    fn fetch(&self, path: &str) -> String {
        format!("{}{}", self.url, path)
    }
}

impl Client {
    pub fn new(url: &str) -> Self {
        Client { url: url.to_string() }
    }
}

pub fn make_client(url: &str) -> Client {
    Client::new(url)
}

macro_rules! log { ($x:expr) => { println!("{}", $x) }; }
"""

JAVA = b"""\
package com.example;

import java.util.List;

public class Client extends BaseClient implements Fetcher {
    private final String url;

    public Client(String url) {
        this.url = url;
    }

    @Override
    public String fetch(String path) {
        return HttpUtil.get(url + path);
    }
}

interface Fetcher {
    String fetch(String path);
}

enum Mode { FAST, SLOW }

record Point(int x, int y) {}
"""


def by_name(tags):
    return {(d.name, d.kind): d for d in tags.defs}


def test_python_definitions_kinds_parents_and_signatures():
    t = parse_source("pkg/client.py", PY)
    assert t.language == "python"
    d = by_name(t)
    assert ("Client", "class") in d and d[("Client", "class")].signature == "class Client(BaseClient):"
    assert d[("Client", "class")].line == 7
    get = d[("get", "method")]
    assert get.parent == "Client" and not get.local
    assert get.signature == "def get(self, path, retries=3):"  # two source lines joined
    init = d[("__init__", "method")]
    assert init.signature == "def __init__(self, url):"
    mk = d[("make_client", "function")]
    assert mk.parent is None and mk.signature == 'def make_client(url: str) -> "Client":'
    assert d[("local_helper", "function")].local
    assert d[("TIMEOUT", "variable")].signature == "TIMEOUT = 30"
    # references: names used, not keywords
    assert t.refs["fetch_page"] == 2 and t.refs["TIMEOUT"] >= 1 and "Client" in t.refs
    assert "client" in t.terms and "fetch" in t.terms


def test_javascript_definitions_and_references():
    t = parse_source("src/client.js", JS)
    assert t.language == "javascript"
    d = by_name(t)
    assert d[("Client", "class")].signature == "class Client extends BaseClient"  # the declaration, not `export`
    assert d[("get", "method")].parent == "Client"
    assert d[("constructor", "method")].parent == "Client"
    assert ("makeClient", "function") in d
    assert d[("parseHeader", "function")].signature == "const parseHeader = (line) =>"
    assert ("pages", "function") in d
    assert t.refs["fetchPage"] == 2 and "Client" in t.refs


@pytest.mark.parametrize("path", ["src/opts.ts", "src/opts.mts"])
def test_typescript_definitions(path):
    t = parse_source(path, TS)
    assert t.language == "typescript"
    d = by_name(t)
    for key in [
        ("Options", "interface"),
        ("Header", "type"),
        ("Mode", "enum"),
        ("Base", "class"),
        ("Client", "class"),
        ("makeClient", "function"),
    ]:
        assert key in d, key
    assert {(m.name, m.parent) for m in t.defs if m.kind == "method"} == {
        ("retry", "Options"),
        ("retry", "Client"),
        ("run", "Base"),
        ("run", "Client"),
    }
    assert d[("makeClient", "function")].signature == "function makeClient(opts: Options): Client"
    assert "fetchPage" in t.refs and "Options" in t.refs


def test_tsx_definitions():
    t = parse_source("ui/button.tsx", TSX)
    assert t.language == "tsx"
    names = {d.name for d in t.defs}
    assert {"Button", "Panel"} <= names
    assert "ButtonProps" in t.refs


def test_go_definitions():
    t = parse_source("client/client.go", GO)
    assert t.language == "go"
    d = by_name(t)
    assert d[("Client", "struct")].signature == "type Client struct"
    assert d[("Fetcher", "interface")].signature == "type Fetcher interface"
    assert ("Handler", "type") in d
    assert d[("Get", "method")].signature == "func (c *Client) Get(path string) (*http.Response, error)"
    assert d[("Fetch", "method")].parent == "Fetcher"
    assert ("NewClient", "function") in d
    assert "URL" in t.refs


def test_rust_definitions():
    t = parse_source("src/client.rs", RUST)
    assert t.language == "rust"
    d = by_name(t)
    for key in [
        ("Client", "struct"),
        ("Mode", "enum"),
        ("Fetch", "trait"),
        ("Client", "impl"),
        ("make_client", "function"),
        ("log", "macro"),
    ]:
        assert key in d, key
    methods = [x for x in t.defs if x.kind == "method"]
    assert {m.name for m in methods} == {"fetch", "new"}
    new = next(m for m in methods if m.name == "new")
    assert new.parent == "Client" and new.signature == "pub fn new(url: &str) -> Self"
    assert "Client" in t.refs and "to_string" in t.refs


def test_java_definitions():
    t = parse_source("src/main/java/com/example/Client.java", JAVA)
    assert t.language == "java"
    d = by_name(t)
    for key in [
        ("Client", "class"),
        ("Fetcher", "interface"),
        ("Mode", "enum"),
        ("Point", "class"),
        ("Client", "constructor"),
    ]:
        assert key in d, key
    fetch = [x for x in t.defs if x.name == "fetch"]
    assert {f.parent for f in fetch} == {"Client", "Fetcher"}
    impl = next(f for f in fetch if f.parent == "Client")
    assert impl.signature == "@Override public String fetch(String path)"
    assert "HttpUtil" in t.refs and "BaseClient" in t.refs


def test_unknown_languages_get_words_but_no_tags():
    t = parse_source("scripts/build.sh", b"#!/bin/sh\nmake release_notes\n")
    assert t.language is None and t.defs == [] and "releas" in t.terms
    t = parse_source("notes/todo.md", b"# Remember the milk\n")
    assert t.language is None and t.terms == {}  # prose is matched by its path only


def test_language_detection_and_queries_ship_for_every_language():
    assert language_for("a/b.py") == "python" and language_for("x.tsx") == "tsx" and language_for("Makefile") is None
    assert language_for("dir.v2/file") is None
    for lang in LANGUAGES:
        assert "@name" in query_text(lang, "defs") and "@ref" in query_text(lang, "refs")
    assert len(tags_version()) == 16


def test_broken_source_still_yields_what_parses():
    t = parse_source("bad.py", b"def ok(a):\n    return a\n\ndef broken(:\n    pass\n")
    assert "ok" in {d.name for d in t.defs}
