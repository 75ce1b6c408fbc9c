"""`lecture lsp`: the language server editors talk to (diagnostics, completion, hover,
navigation, formatting, code actions, preview), over stdio with pygls."""
