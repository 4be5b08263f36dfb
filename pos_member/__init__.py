"""POS Member domain core: values, rules, storage and services. Imports no Qt and no HTTP client."""

__version__ = "0.1.0"
