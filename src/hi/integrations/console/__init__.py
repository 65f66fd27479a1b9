"""The operator's pages: views, forms, queries, health, problems, metrics, diagnostics and the middleware they need."""
