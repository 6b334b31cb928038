"""Model backends: pure Python, no Django. Each module imports torch & co. on first use only."""
