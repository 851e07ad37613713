"""Data store: which file the app is using, what is in it, and how to change that."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from analytics.store.db import DB_ENV_VAR
from app_pages import agreements_panel, shared


def main() -> None:
    store = shared.page_store()
    info = store.info()
    st.title("Data store")
    kind = "the built-in demo partnership (fictional schools)" if info["is_demo"] else "your partnership's data"
    st.markdown(f"This app is reading **{kind}** from `{info['path']}`.")
    cols = st.columns(3)
    cols[0].metric("Schools", f"{info['counts']['schools']:,}")
    cols[1].metric("Results", f"{info['counts']['results']:,}")
    cols[2].metric("Schema version", f"{info['schema_version']} of {info['latest_schema_version']}")
    counts = pd.DataFrame(
        {"table": [t.replace("_", " ") for t in info["counts"]], "rows": list(info["counts"].values())}
    )
    st.dataframe(counts, hide_index=True, column_config={"table": "Table", "rows": "Rows"})
    st.subheader("Use another store")
    st.markdown(
        f"Set the environment variable `{DB_ENV_VAR}` to the path of a store file before starting the app, "
        f"for example `{DB_ENV_VAR}=/path/to/partnership.duckdb streamlit run app.py`. A new file is "
        "created and set up automatically. The command line does the same: `python -m analytics info --db PATH`."
    )
    agreements_panel.render_agreements(store)


with shared.user_errors():
    main()
