"""The checking page for a class: `derive serve` (derive.serve.app), its JSON API and static files."""
