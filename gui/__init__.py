"""The desktop window (PySide6): renders what core returns."""
