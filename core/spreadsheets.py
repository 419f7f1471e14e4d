"""Text that goes into CSV files people open in a spreadsheet program."""

# Spreadsheet programs treat cells starting with these as formulas.
FORMULA_PREFIXES = ("=", "+", "-", "@")


def spreadsheet_safe(text: str) -> str:
    """The text, with a leading ' when a spreadsheet would run it as a formula."""
    return f"'{text}" if text.startswith(FORMULA_PREFIXES) else text
