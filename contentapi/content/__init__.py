"""The content core: pages on disk to an index of typed objects, framework-free.

    pages on disk -> paths (which files are pages) -> page (parse one file: frontmatter,
    markup, indications) -> load (a folder, in parallel; cache: the warm-start cache)
    -> index (views, relations, filters; search) -> store (the index being served;
    reload swaps in a new one)

Nothing here imports GraphQL, a web framework or the CLI (an import-linter contract in
pyproject.toml keeps it so).
"""
