"""Package data: Fisher's Iris (iris.csv; provenance in README.md)."""
