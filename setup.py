"""Builds the compiled inner loops (Cython); everything else is in pyproject.toml."""

from Cython.Build import cythonize
from setuptools import setup

setup(ext_modules=cythonize("src/riverpatrol/*/_kernels.pyx"))
