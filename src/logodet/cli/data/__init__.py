"""``logodet data ...``: convert, check, stats, split, merge, agree, review and show datasets; one module per command."""
