"""The authority's tool (the city commerce bureau): its key, its agency book, the trust lists
it signs and pushes. `xinka-authority` (authority.cli); docs/operator.md."""
