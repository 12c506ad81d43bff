"""Built-in reference methods (CPU): they anchor the scale of every metric in the report."""
