"""The command line: one module per command family; ``analytics/__main__.py`` builds the parser."""
