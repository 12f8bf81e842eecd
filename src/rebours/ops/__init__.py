"""The op table and its rows, one module per op family (importing a family registers its rows)."""
