"""School Improvement Insight's logic: the store, the demo, and the analyses behind every page.

Importable without Streamlit, from a notebook or a script; ``python -m analytics --help`` lists
the command-line tools.
"""

__version__ = "0.1.0"
