"""The repository layer: the user's git work tree and what may be done with it.

- `workspace`: git (files, ignore rules, dirty paths, commits); `journal`: undoable edits and `recover`.
- `runner`: the repository's own commands, in their own process group, with timeouts.
- `secret_paths`: files never shown to a model; `context`: the files a prompt may hold.
- `diffs`: diffs of what a run changed; `patching/`: applying model-written patches;
  `map/`: the tree-sitter repository map and ranking.

May import: `tieragent.core` only.
"""
