"""A pack directory inside the package (see `__main__.py`)."""
