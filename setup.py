# Package discovery only; everything else is in pyproject.toml. find_packages sees every
# subpackage of tieragent/, and tieragent.prompts is added because it is mapped from the
# top-level prompts/ folder (package-dir in pyproject.toml), where find cannot see it.
from setuptools import find_packages, setup

setup(packages=find_packages(include=["tieragent", "tieragent.*"]) + ["tieragent.prompts"])
