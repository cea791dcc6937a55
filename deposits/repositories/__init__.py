"""One module per repository kind, plus the shared HTTP layer and the limiter."""
