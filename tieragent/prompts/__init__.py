# Prompt files for each step; shipped in the wheel as the package `tieragent.prompts`.
